import { FINALIZER } from '../../api/names.ts';
import type { KeyMetrics } from '../../observability/key-metrics.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ReconcileResult } from '../result.ts';
import type { ExecuteDeps } from './execute/context.ts';
import { execute } from './execute/execute.ts';
import { recordPlan } from './execute/plan-mode.ts';
import { reportCreated } from './execute/report-created.ts';
import { type ObserveDeps, observe } from './observe.ts';
import { plan } from './plan/plan.ts';
import { releaseInvalid, reportInvalid } from './report-invalid.ts';

/** ReconcileDeps are everything one ApiKey pass needs, injected. */
export interface ReconcileDeps extends ObserveDeps, ExecuteDeps {
  logger: Logger;
  /** Status fingerprints this process wrote, so a lagging cache does not cause a second write. */
  lastWritten: Map<string, string>;
  keyMetrics?: KeyMetrics;
}

/**
 * reconcileApiKey runs one level-based pass for `namespace/name`: observe (read-only), plan (pure),
 * execute (writes). It never throws: failures come back as 'retry' for the queue's per-item backoff.
 */
export async function reconcileApiKey(key: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  try {
    const observed = await observe(key, deps);
    if ('gone' in observed) {
      const [ns, name] = key.split('/');
      if (ns && name) deps.keyMetrics?.forgetKey(ns, name);
      return { kind: 'done' };
    }
    if ('invalid' in observed) {
      deps.logger.warn(
        { apiKey: key, problem: observed.invalid },
        'ApiKey does not match the schema; skipping',
      );
      if (await releaseInvalid(observed.raw, FINALIZER, deps)) return { kind: 'done' };
      await reportInvalid(observed.raw, observed.invalid, deps, deps.lastWritten);
      return { kind: 'done' };
    }
    const { observation } = observed;
    const p = plan(observation);
    if (p.status?.keyCreatedAt) {
      const next = p.status.rotation?.nextRotationAt;
      const meta = observation.apiKey.metadata;
      deps.keyMetrics?.observeKey(
        meta.namespace ?? '',
        meta.name,
        Date.parse(p.status.keyCreatedAt),
        next ? Date.parse(next) : undefined,
      );
    }
    if (observation.apiKey.spec.mode === 'Plan') {
      await recordPlan(observation, p, deps);
      const r = observation.rancher;
      const drift =
        r.checked && !('error' in r)
          ? deps.drift.checked(observation.apiKey.metadata.uid, deps.now())
          : undefined;
      return { kind: 'done', requeueAfterMs: drift };
    }
    if (p.actions.length > 0 || p.status || p.events.length > 0) {
      deps.logger.debug({ apiKey: key, actions: p.actions.map((a) => a.type) }, 'executing plan');
      const outcome = await execute(observed, p, deps, deps.lastWritten);
      if (outcome.finalizerRemoved) {
        deps.drift.forget(observation.apiKey.metadata.uid);
        deps.lastWritten.delete(observation.apiKey.metadata.uid);
        return { kind: 'done' };
      }
      if (outcome.createdKey) {
        const reported = await reportCreated(
          observed,
          outcome.createdKey,
          outcome.secretAfter,
          deps,
          deps.lastWritten,
        );
        if (reported) {
          const delay = deps.drift.checked(observation.apiKey.metadata.uid, deps.now());
          return { kind: 'done', requeueAfterMs: delay };
        }
      }
      if (outcome.created) return { kind: 'done', requeueAfterMs: 0 };
    }
    const r = observation.rancher;
    let driftDelay: number | undefined;
    if (r.checked && !('error' in r))
      driftDelay = deps.drift.checked(observation.apiKey.metadata.uid, deps.now());
    if (p.retry) return { kind: 'retry', error: new Error(p.status?.conditions[0]?.message ?? 'retrying') };
    // A pass that did not ask Rancher keeps the schedule: the pending drift check and the next rotation.
    const uid = observation.apiKey.metadata.uid;
    const steady = !r.checked && observation.connection?.ok === true && !observation.paused;
    const pending = steady ? deps.drift.untilDue(uid, deps.now()) : undefined;
    const scheduled = observation.apiKey.spec.rotation?.every !== undefined;
    const rotationAt = scheduled ? observation.apiKey.status?.rotation?.nextRotationAt : undefined;
    const untilRotation = steady && rotationAt ? Math.max(0, Date.parse(rotationAt) - deps.now()) : undefined;
    const delays = [p.requeueAfterMs, driftDelay, pending, untilRotation].filter(
      (d): d is number => d !== undefined,
    );
    return { kind: 'done', requeueAfterMs: delays.length > 0 ? Math.min(...delays) : undefined };
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err : new Error('reconcile failed') };
  }
}
