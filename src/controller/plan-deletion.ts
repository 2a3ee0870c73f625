import type { Action, Observation, Plan } from './model.ts';
import { blocked, keepFields, progressing } from './plan-status.ts';
import { AFTER_ACTION_MS, isLive, retireStep, uniqueById, WAIT_MS } from './plan-steps.ts';

/** releaseStep removes the ownership marker from an orphaned key, so the orphan inventory leaves it alone. */
function releaseStep(o: Observation): Action | undefined {
  const r = o.rancher;
  if (!r.checked || 'error' in r) return undefined;
  const k = r.bySecret ?? r.byId;
  if (!k || !isLive(k) || k.transitioning === 'yes' || k.description === o.releasedDescription)
    return undefined;
  return { type: 'UpdateKey', id: k.id, name: k.name ?? o.desiredName, description: o.releasedDescription };
}

/**
 * planDeletion retires every Rancher key of a deleted ApiKey per its deletionPolicy (Purge:
 * deactivate, remove, purge; Remove: stop at removed; Orphan: leave them), then deletes the
 * Secret and drops the finalizer. Keys already gone in Rancher count as retired.
 */
export function planDeletion(o: Observation): Plan {
  if (!o.hasFinalizer)
    return { actions: [], status: undefined, events: [], requeueAfterMs: undefined, retry: false };
  const policy = o.apiKey.spec.deletionPolicy;
  const finish: Action[] = [
    ...(o.secret.state === 'owned' ? [{ type: 'DeleteSecret' } as const] : []),
    { type: 'RemoveFinalizer' },
  ];
  if (policy === 'Orphan') {
    const release = releaseStep(o);
    if (release) {
      return {
        actions: [release],
        status: undefined,
        events: [],
        requeueAfterMs: AFTER_ACTION_MS,
        retry: false,
      };
    }
    const id = o.apiKey.status?.id;
    const message = id
      ? `Rancher key ${id} left in Rancher (deletionPolicy Orphan)`
      : 'deleted (deletionPolicy Orphan)';
    return {
      actions: finish,
      status: undefined,
      events: [{ type: 'Normal', reason: 'OrphanedKey', message }],
      requeueAfterMs: undefined,
      retry: false,
    };
  }
  const c = o.connection;
  if (!c?.ok) {
    const why = c ?? { reason: 'ConnectionPending', message: 'connection not resolved yet', terminal: false };
    return blocked(o, [], {
      reason: 'DeletionBlocked',
      message: `cannot retire the Rancher key: ${why.reason}: ${why.message}`,
      terminal: false,
      retry: true,
    });
  }
  const r = o.rancher;
  if (!r.checked || 'error' in r) {
    const message = r.checked && 'error' in r ? r.error.message : 'Rancher not consulted';
    return blocked(o, [], {
      reason: 'DeletionBlocked',
      message: `cannot retire the Rancher key: ${message}`,
      terminal: false,
      retry: true,
    });
  }
  const keys = uniqueById([r.byId, r.bySecret, ...r.marked, ...r.retiring]);
  let waiting = false;
  for (const k of keys) {
    const step = retireStep(k, policy === 'Remove');
    if (typeof step === 'object') {
      return {
        actions: [step],
        status: {
          ...keepFields(o),
          // One message for the whole deletion, so the status is written once, not per Rancher step.
          conditions: progressing('Deleting', `retiring the Rancher key (deletionPolicy ${policy})`),
        },
        events: [],
        requeueAfterMs: AFTER_ACTION_MS,
        retry: false,
      };
    }
    if (step === 'wait') waiting = true;
  }
  if (waiting) {
    return { actions: [], status: undefined, events: [], requeueAfterMs: WAIT_MS, retry: false };
  }
  return { actions: finish, status: undefined, events: [], requeueAfterMs: undefined, retry: false };
}
