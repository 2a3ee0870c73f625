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
import { ABSENT, echoOnly, type OwnWrites, recordingWriters, type WriteLog } from './own-writes.ts';
import { plan } from './plan/plan.ts';
import { releaseInvalid, reportInvalid } from './report-invalid.ts';
import type { ShardGate } from './shard/gate.ts';

/** ReconcileDeps are everything one ApiKey pass needs, injected. */
export interface ReconcileDeps extends ObserveDeps, ExecuteDeps {
  logger: Logger;
  /** Status fingerprints this process wrote, so a lagging cache does not cause a second write. */
  lastWritten: LastWritten;
  /** What the last pass of each ApiKey wrote, so the echo of its own writes wakes no second pass. */
  ownWrites: OwnWrites;
  keyMetrics?: KeyMetrics;
  /** onSkipped is told of each pass that returned at once (for the skipped-passes metric). */
  onSkipped?(reason: 'echo' | 'released'): void;
  /** In a sharded install, the gate that lets a pass run only on ApiKeys this shard claims (shard/gate.ts). */
  shardGate?: ShardGate | undefined;
}

/**
 * reconcileApiKey runs one level-based pass for an ApiKey: observe (read-only), plan (pure), execute
 * (writes), then nextPass (pure) says when to look again. It never throws: failures come back as 'retry'
 * for the queue's per-item backoff.
 */
export async function reconcileApiKey(key: ObjectKey, deps: ReconcileDeps): Promise<ReconcileResult> {
  try {
    const id = `${key.namespace}/${key.name}`;
    const admitted = await deps.shardGate?.admit(key);
    if (admitted) return admitted;
    if (finishedHere(key, deps)) {
      deps.onSkipped?.('released');
      return { kind: 'done' };
    }
    const last = deps.ownWrites.get(id);
    if (last && echoOnly(last, cachedVersions(key, deps), deps.now())) {
      deps.onSkipped?.('echo');
      // The wake-up the writing pass asked for stands (the queue keeps the earliest).
      const left = last.until - deps.now();
      return Number.isFinite(left) ? { kind: 'done', requeueAfterMs: left } : { kind: 'done' };
    }
    deps.ownWrites.delete(id);
    const log: WriteLog = { apiKeyVersions: [], secretVersions: [] };
    return await pass(key, id, { ...deps, ...recordingWriters(deps, log) }, log);
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err : new Error('reconcile failed') };
  }
}

/** pass is one observe, plan, execute; it remembers what it wrote so that the echo of those writes is skipped. */
async function pass(
  key: ObjectKey,
  id: string,
  deps: ReconcileDeps,
  log: WriteLog,
): Promise<ReconcileResult> {
  const observed = await observe(id, deps);
  if ('gone' in observed) {
    deps.keyMetrics?.forgetKey(key.namespace, key.name);
    // Deleted without a finalizer of ours (it never reached Rancher): nothing else knows it any more.
    deps.lastWritten.delete(id);
    return { kind: 'done' };
  }
  if ('invalid' in observed) {
    deps.logger.warn({ apiKey: id, problem: observed.invalid }, 'ApiKey does not match the schema; skipping');
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
    deps.shardGate?.finished(key);
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
  const result = nextPass({ observation, plan: p, end, drift });
  if (end !== 'finalizerRemoved') rememberOwnWrites(id, observed, log, result, deps);
  return result;
}

/** rememberOwnWrites keeps what a pass that wrote knew (see own-writes.ts); a pass that wrote nothing needs none. */
function rememberOwnWrites(
  id: string,
  observed: Observed,
  log: WriteLog,
  result: ReconcileResult,
  deps: ReconcileDeps,
): void {
  if (result.kind !== 'done' || log.apiKeyVersions.length + log.secretVersions.length === 0) return;
  const start = observed.observation.apiKey.metadata.resourceVersion;
  const seen = [observed.cachedSecret, observed.liveSecret].map(
    (s) => s?.metadata?.resourceVersion ?? ABSENT,
  );
  // A Secret this pass wrote cannot go back to a version it had, but it can be deleted: "absent" is then news.
  const secretVersions = [
    ...seen.filter((v) => v !== ABSENT || log.secretVersions.length === 0),
    ...log.secretVersions,
  ];
  deps.ownWrites.set(id, {
    secretName: observed.observation.secretName,
    apiKeyVersions: [...(start ? [start] : []), ...log.apiKeyVersions],
    secretVersions,
    until: deps.now() + (result.requeueAfterMs ?? Number.POSITIVE_INFINITY),
  });
}

/** cachedVersions reads the resourceVersions the informer caches hold for an ApiKey and its output Secret. */
function cachedVersions(key: ObjectKey, deps: ReconcileDeps) {
  return {
    apiKeyVersion: versionOf(deps.apiKeys.get(key.name, key.namespace)),
    secretVersion: (secretName: string) =>
      versionOf(deps.secretCache.get(secretName, key.namespace)) ?? ABSENT,
  };
}

/** FINALIZED is the status memory's entry for an ApiKey whose finalizer this process removed. */
const FINALIZED = 'finalized';

/** finishedHere reports an ApiKey this process released (finalizer removed) that the cache still shows. */
function finishedHere(key: ObjectKey, deps: ReconcileDeps): boolean {
  const uid = uidOf(deps.apiKeys.get(key.name, key.namespace));
  return uid !== undefined && wroteLast(deps.lastWritten, { ...key, uid }, FINALIZED);
}

function uidOf(raw: unknown): string | undefined {
  return metadataField(raw, 'uid');
}

function versionOf(raw: unknown): string | undefined {
  return metadataField(raw, 'resourceVersion');
}

function metadataField(raw: unknown, field: 'uid' | 'resourceVersion'): string | undefined {
  if (typeof raw !== 'object' || raw === null || !('metadata' in raw)) return undefined;
  const meta = raw.metadata;
  if (typeof meta !== 'object' || meta === null || !(field in meta)) return undefined;
  const value: unknown = Reflect.get(meta, field);
  return typeof value === 'string' ? value : undefined;
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
    const { createdKey, createdVerified, secretAfter } = outcome;
    const created = { key: createdKey, ...(createdVerified ? { verified: createdVerified } : {}) };
    if (await reportCreated(observed, created, secretAfter, deps, deps.lastWritten))
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
