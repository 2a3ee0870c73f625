import { FINALIZER } from '../../api/names.ts';
import type { KeyMetrics } from '../../observability/key-metrics.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ObjectKey } from '../object-key.ts';
import type { ReconcileResult } from '../result.ts';
import type { ExecuteDeps } from './execute/context.ts';
import { execute } from './execute/execute.ts';
import { recordPlan } from './execute/plan-mode.ts';
import { reportCreated } from './execute/report-created.ts';
import { type LastWritten, rememberWrite, wroteLast } from './last-written.ts';
import type { Plan } from './model.ts';
import { nextPass, type PassEnd, recordsDriftCheck } from './next-pass.ts';
import { type ObserveDeps, type Observed, observe } from './observe.ts';
import { plan } from './plan/plan.ts';
import { releaseInvalid, reportInvalid } from './report-invalid.ts';

/** ReconcileDeps are everything one ApiKey pass needs, injected. */
export interface ReconcileDeps extends ObserveDeps, ExecuteDeps {
  logger: Logger;
  /** Status fingerprints this process wrote, so a lagging cache does not cause a second write. */
  lastWritten: LastWritten;
  keyMetrics?: KeyMetrics;
}

/**
 * reconcileApiKey runs one level-based pass for an ApiKey: observe (read-only), plan (pure), execute
 * (writes), then nextPass (pure) says when to look again. It never throws: failures come back as 'retry'
 * for the queue's per-item backoff.
 */
export async function reconcileApiKey(key: ObjectKey, deps: ReconcileDeps): Promise<ReconcileResult> {
  try {
    const id = `${key.namespace}/${key.name}`;
    if (finishedHere(key, deps)) return { kind: 'done' };
    const observed = await observe(id, deps);
    if ('gone' in observed) {
      deps.keyMetrics?.forgetKey(key.namespace, key.name);
      // Deleted without a finalizer of ours (it never reached Rancher): nothing else knows it any more.
      deps.lastWritten.delete(id);
      return { kind: 'done' };
    }
    if ('invalid' in observed) {
      deps.logger.warn(
        { apiKey: id, problem: observed.invalid },
        'ApiKey does not match the schema; skipping',
      );
      if (!(await releaseInvalid(observed.raw, FINALIZER, deps)))
        await reportInvalid(observed.raw, observed.invalid, deps, deps.lastWritten);
      return { kind: 'done' };
    }
    const { observation } = observed;
    const p = plan(observation);
    observeKeyMetrics(p, observed, deps);
    const end = await act(observed, p, deps);
    const uid = observation.apiKey.metadata.uid;
    if (end === 'finalizerRemoved') {
      deps.drift.forget(uid);
      deps.inventory.forget(uid);
      // Until the informer reports it gone, a pass would see it deleting with the finalizer and ask Rancher again.
      rememberWrite(deps.lastWritten, observation.apiKey.metadata, FINALIZED);
    }
    const now = deps.now();
    const drift = {
      untilDueMs: deps.drift.untilDue(uid, now),
      scheduledMs: recordsDriftCheck(observation, end) ? deps.drift.checked(uid, now) : undefined,
    };
    return nextPass({ observation, plan: p, end, drift });
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err : new Error('reconcile failed') };
  }
}

/** FINALIZED is the status memory's entry for an ApiKey whose finalizer this process removed. */
const FINALIZED = 'finalized';

/** finishedHere reports an ApiKey this process released (finalizer removed) that the cache still shows. */
function finishedHere(key: ObjectKey, deps: ReconcileDeps): boolean {
  const uid = uidOf(deps.apiKeys.get(key.name, key.namespace));
  return uid !== undefined && wroteLast(deps.lastWritten, { ...key, uid }, FINALIZED);
}

function uidOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || !('metadata' in raw)) return undefined;
  const meta = raw.metadata;
  if (typeof meta !== 'object' || meta === null || !('uid' in meta)) return undefined;
  return typeof meta.uid === 'string' ? meta.uid : undefined;
}

/** act performs the plan (or, in plan mode, records it) and says how the pass ended. */
async function act(observed: Observed, p: Plan, deps: ReconcileDeps): Promise<PassEnd> {
  const { observation } = observed;
  if (observation.apiKey.spec.mode === 'Plan') {
    await recordPlan(observation, p, deps);
    return 'planMode';
  }
  if (p.actions.length === 0 && !p.status && p.events.length === 0) return 'executed';
  const meta = observation.apiKey.metadata;
  const actions = p.actions.map((a) => a.type);
  deps.logger.debug({ apiKey: `${meta.namespace}/${meta.name}`, actions }, 'executing plan');
  const outcome = await execute(observed, p, deps, deps.lastWritten);
  if (outcome.finalizerRemoved) return 'finalizerRemoved';
  if (outcome.createdKey) {
    const { createdKey, secretAfter } = outcome;
    if (await reportCreated(observed, createdKey, secretAfter, deps, deps.lastWritten))
      return 'createdAndReported';
  }
  return outcome.created ? 'created' : 'executed';
}

/** observeKeyMetrics records the age and next rotation of the key this pass reports. */
function observeKeyMetrics(p: Plan, observed: Observed, deps: ReconcileDeps): void {
  if (!p.status?.keyCreatedAt) return;
  const next = p.status.rotation?.nextRotationAt;
  const meta = observed.observation.apiKey.metadata;
  deps.keyMetrics?.observeKey(
    meta.namespace ?? '',
    meta.name,
    Date.parse(p.status.keyCreatedAt),
    next ? Date.parse(next) : undefined,
  );
}
