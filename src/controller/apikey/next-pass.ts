import type { ReconcileResult } from '../result.ts';
import type { Observation, Plan } from './model.ts';

/**
 * PassEnd is how a pass ended: plan mode recorded its plan; the finalizer was removed (the object goes away);
 * a new key was created and its status reported in the same pass; a key was created or staged but not yet
 * reported; or anything else (the plan executed or had nothing to do).
 */
export type PassEnd = 'planMode' | 'finalizerRemoved' | 'createdAndReported' | 'created' | 'executed';

/** DriftSchedule is the drift tracker's answer for this ApiKey, read by the caller (the tracker is stateful). */
export interface DriftSchedule {
  /** The delay the tracker scheduled because this pass checked Rancher (see recordsDriftCheck). */
  scheduledMs: number | undefined;
  /** The time left until the pending drift check, when this pass did not check Rancher. */
  untilDueMs: number;
}

/** NextPassInput is everything nextPass decides from. */
export interface NextPassInput {
  observation: Observation;
  plan: Plan;
  end: PassEnd;
  drift: DriftSchedule;
}

const checkedRancher = (o: Observation) => o.rancher.checked && !('error' in o.rancher);

/**
 * recordsDriftCheck reports whether a pass counts as a drift check: it asked Rancher without an error and
 * ended normally (a pass that just created a key without reporting it looks again at once instead).
 */
export function recordsDriftCheck(o: Observation, end: PassEnd): boolean {
  return checkedRancher(o) && (end === 'planMode' || end === 'createdAndReported' || end === 'executed');
}

/**
 * rotationAt is the scheduled rotation that should wake a key at rest: in steady state (Rancher not asked,
 * connection usable) the one status records; after asking Rancher, the one the plan reports for a key that
 * has nothing of its own to wait for. A blocked, deleting, paused or converging key is never woken by it.
 */
function rotationAt(o: Observation, p: Plan): string | undefined {
  if (o.paused || o.connection?.ok !== true || o.apiKey.spec.rotation?.every === undefined) return undefined;
  if (!o.rancher.checked) return o.apiKey.status?.rotation?.nextRotationAt;
  const atRest =
    checkedRancher(o) && !o.deleting && o.secret.state !== 'foreign' && p.requeueAfterMs === undefined;
  return atRest ? p.status?.rotation?.nextRotationAt : undefined;
}

/**
 * nextPass decides, from one pass's observation, plan, ending and the drift schedule, when the ApiKey is
 * looked at again: the earliest of what the plan waits for, the drift check and the scheduled rotation, or
 * a retry with backoff when the plan failed on a retryable error. It is pure.
 */
export function nextPass({ observation: o, plan: p, end, drift }: NextPassInput): ReconcileResult {
  switch (end) {
    case 'finalizerRemoved':
      return { kind: 'done' };
    case 'created':
      // The created or staged key is reported (or promoted) by the next pass, at once.
      return { kind: 'done', requeueAfterMs: 0 };
    case 'planMode':
    case 'createdAndReported':
      return { kind: 'done', requeueAfterMs: drift.scheduledMs };
  }
  if (p.retry) return { kind: 'retry', error: new Error(p.status?.conditions[0]?.message ?? 'retrying') };
  const steady = !o.rancher.checked && o.connection?.ok === true && !o.paused;
  const at = rotationAt(o, p);
  const untilRotation = at ? Math.max(0, Date.parse(at) - Date.parse(o.now)) : undefined;
  const delays = [p.requeueAfterMs, drift.scheduledMs, steady ? drift.untilDueMs : undefined, untilRotation];
  const due = delays.filter((d): d is number => d !== undefined);
  return { kind: 'done', requeueAfterMs: due.length > 0 ? Math.min(...due) : undefined };
}
