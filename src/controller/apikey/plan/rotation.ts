import { formatTimestamp, parseDuration } from '../../../api/time.ts';
import type { Action, KeyView, Observation, RetiringEntry, RotationStatus } from '../model.ts';

const HISTORY_MAX = 10;

const at = (o: Observation, plusMs = 0): string => formatTimestamp(Date.parse(o.now) + plusMs);

/** rotationDue reports an unhandled rotate-requested-at token or a passed nextRotationAt. */
export function rotationDue(o: Observation): boolean {
  const r = o.apiKey.status?.rotation;
  if (o.rotateRequested !== undefined && o.rotateRequested !== r?.lastHandledRotateAt) return true;
  const next = r?.nextRotationAt;
  return (
    o.apiKey.spec.rotation?.every !== undefined && next !== undefined && Date.parse(next) <= Date.parse(o.now)
  );
}

/**
 * rotationStep returns the next rotation action for a healthy, active current key: stage a new key
 * (its pair persisted in the staging Secret), promote it once active (one Secret write), 'wait' while
 * it transitions, or 'done' when no rotation is due or in progress.
 */
export function rotationStep(
  o: Observation,
  current: KeyView,
  staged: KeyView | undefined,
  canSupplyValues: boolean,
): Action | 'wait' | 'done' {
  if (o.apiKey.spec.state !== 'Active' || current.state !== 'active') return 'done';
  const s = o.staging;
  if (s.state === 'foreign') return 'done';
  if (s.state === 'present') {
    if (staged?.transitioning === 'yes') return 'wait';
    // The staging Secret is tenant-writable: promote only a key carrying this ApiKey's marker (the caller
    // passes no other) whose staged pair authenticates.
    const proven = o.rancher.checked && 'byId' in o.rancher && o.rancher.stagingVerified === true;
    if (staged && staged.state === 'active' && s.intact && s.publicValue === staged.publicValue && proven) {
      return { type: 'PromoteKey', id: staged.id, replaces: current.id };
    }
    return { type: 'StageKey', supplyValues: canSupplyValues };
  }
  return rotationDue(o) ? { type: 'StageKey', supplyValues: canSupplyValues } : 'done';
}

function appendHistory(h: RotationStatus['history'], entries: NonNullable<RotationStatus['history']>) {
  const all = [...(h ?? []), ...entries];
  return all.slice(Math.max(0, all.length - HISTORY_MAX));
}

/**
 * nextRotation computes the rotation status and key creation time for the key that is current after
 * this pass: a newly seen key starts its schedule; retirements and creations enter the history.
 */
export function nextRotation(
  o: Observation,
  key: KeyView,
  retiring: RetiringEntry[],
  promoted: { replaces: KeyView } | undefined,
): { keyCreatedAt: string; rotation: RotationStatus | undefined } {
  const s = o.apiKey.status;
  const every = o.apiKey.spec.rotation?.every;
  const everyMs = every ? parseDuration(every) : undefined;
  const isNew = s?.id !== key.id;
  // Rancher's own creation time makes this deterministic: re-planning the same key (for example from a
  // lagging cache) yields the same status, so it is not written twice.
  const keyCreatedAt = !isNew && s?.keyCreatedAt ? s.keyCreatedAt : (key.created ?? at(o));
  const events: NonNullable<RotationStatus['history']> = [];
  const gone = (s?.retiring ?? []).filter((r) => !retiring.some((x) => x.id === r.id));
  for (const g of gone) events.push({ id: g.id, publicValue: g.publicValue, event: 'Retired', at: at(o) });
  if (promoted)
    events.push({
      id: promoted.replaces.id,
      publicValue: promoted.replaces.publicValue,
      event: 'Rotated',
      at: at(o),
    });
  if (isNew) events.push({ id: key.id, publicValue: key.publicValue, event: 'Created', at: keyCreatedAt });
  const prev = s?.rotation;
  const rotation: RotationStatus = {
    nextRotationAt: everyMs !== undefined ? formatTimestamp(Date.parse(keyCreatedAt) + everyMs) : undefined,
    lastRotatedAt: promoted ? at(o) : prev?.lastRotatedAt,
    lastHandledRotateAt: promoted
      ? (o.rotateRequested ?? prev?.lastHandledRotateAt)
      : prev?.lastHandledRotateAt,
    history: events.length > 0 ? appendHistory(prev?.history, events) : prev?.history,
  };
  const empty = Object.values(rotation).every((v) => v === undefined);
  return { keyCreatedAt, rotation: empty ? undefined : rotation };
}

/** overlapEnd returns when a key replaced now may start retiring (now + spec.rotation.overlap). */
export function overlapEnd(o: Observation): string {
  const overlap = parseDuration(o.apiKey.spec.rotation?.overlap ?? '10m') ?? 600_000;
  return at(o, overlap);
}

/** waitingUntil returns the milliseconds until the earliest notBefore in the future, if any. */
export function waitingUntil(o: Observation, retiring: RetiringEntry[]): number | undefined {
  const now = Date.parse(o.now);
  const future = retiring
    .map((r) => (r.notBefore ? Date.parse(r.notBefore) - now : 0))
    .filter((ms) => ms > 0);
  return future.length > 0 ? Math.min(...future) : undefined;
}
