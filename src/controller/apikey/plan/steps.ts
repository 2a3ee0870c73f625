import type { Action, KeyView } from '../model.ts';

/** WAIT_MS is how soon a pass looks again while Rancher finishes a transition. */
export const WAIT_MS = 250;

/** AFTER_ACTION_MS is how soon a pass looks again after a Rancher action (the executor already waited for it). */
export const AFTER_ACTION_MS = 20;

const LEAVING: ReadonlySet<string> = new Set(['removing', 'removed', 'purging', 'purged']);

/** isLeavingState reports a Rancher key state on the way out (removing, removed, purging, purged). */
export function isLeavingState(state: string): boolean {
  return LEAVING.has(state);
}

/** isLive reports whether a key can still authenticate or be activated (not on its way out). */
export function isLive(key: KeyView): boolean {
  return !isLeavingState(key.state);
}

/**
 * retireStep returns the next Rancher action that moves a key towards retirement
 * (deactivate, then remove, then purge unless stopAtRemoved), 'wait' while Rancher is
 * transitioning, or 'done' when nothing is left to do.
 */
export function retireStep(key: KeyView, stopAtRemoved: boolean): Action | 'wait' | 'done' {
  if (key.state === 'purged') return 'done';
  if (key.transitioning === 'yes') return 'wait';
  switch (key.state) {
    case 'active':
    case 'activating':
    case 'updating-active':
      return { type: 'DeactivateKey', id: key.id };
    case 'inactive':
    case 'registering':
    case 'requested':
    case 'updating-inactive':
      return { type: 'RemoveKey', id: key.id };
    case 'removed':
      return stopAtRemoved ? 'done' : { type: 'PurgeKey', id: key.id };
    default:
      return 'wait';
  }
}

/**
 * converge returns the one Rancher action that brings a live key to the desired state,
 * name and description, 'wait' while it transitions, or 'done' when it matches.
 */
export function converge(
  key: KeyView,
  desired: { state: 'Active' | 'Inactive'; name: string; description: string },
): Action | 'wait' | 'done' {
  if (key.transitioning === 'yes') return 'wait';
  if (desired.state === 'Active' && key.state === 'inactive') return { type: 'ActivateKey', id: key.id };
  if (desired.state === 'Inactive' && key.state === 'active') return { type: 'DeactivateKey', id: key.id };
  if (key.state !== 'active' && key.state !== 'inactive') return 'wait';
  if (key.name !== desired.name || (key.description ?? '') !== desired.description) {
    return { type: 'UpdateKey', id: key.id, name: desired.name, description: desired.description };
  }
  return 'done';
}

/** uniqueById drops undefined entries and later duplicates of the same Rancher id. */
export function uniqueById(keys: readonly (KeyView | undefined)[]): KeyView[] {
  const seen = new Set<string>();
  const out: KeyView[] = [];
  for (const k of keys) {
    if (k && !seen.has(k.id)) {
      seen.add(k.id);
      out.push(k);
    }
  }
  return out;
}
