import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { RequestCounts } from '../test/emulator/index.ts';
import { diffWrites, readWriteCounts, totalWrites, type WriteCounts } from './apiserver-writes.ts';
import type { BenchEnvironment } from './environment.ts';
import { type CpuShare, cpuShare, cpuSnapshot } from './machine-cpu.ts';
import { diffCounters, type OperatorCounters, readOperatorCounters } from './operator-stats.ts';
import type { BenchOptions } from './options.ts';
import { percentile, runPool, sleep, waitFor } from './pool.ts';
import { RUN_LABEL, type Tracker } from './tracker.ts';

const GROUP = 'rancher.keyops.dev';
const VERSION = 'v1alpha1';

/** PhaseContext is what every phase gets: the environment, the options, the watcher and a progress logger. */
export interface PhaseContext {
  env: BenchEnvironment;
  opts: BenchOptions;
  tracker: Tracker;
  progress(line: string): void;
}

/** ref is the `namespace/name` of the i-th key with `prefix`, spread round-robin over the key namespaces. */
function ref(ctx: PhaseContext, prefix: string, i: number): string {
  const ns = ctx.env.keyNamespaces[i % ctx.env.keyNamespaces.length] ?? '';
  return `${ns}/${prefix}-${String(i).padStart(5, '0')}`;
}

function split(r: string): { namespace: string; name: string } {
  const [namespace = '', name = ''] = r.split('/');
  return { namespace, name };
}

async function createApiKey(ctx: PhaseContext, r: string): Promise<void> {
  const { namespace, name } = split(r);
  const environment = ctx.env.emulator.environmentId;
  ctx.tracker.markCreated(r, performance.now());
  const client = ctx.env.adminClient;
  await client.custom.createNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: 'apikeys',
      namespace,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'ApiKey',
        metadata: { name, namespace, labels: { [RUN_LABEL]: ctx.env.runId } },
        spec: { connectionRef: { name: 'rancher' }, ...(environment ? { environment } : {}) },
      },
    },
    client.options,
  );
}

/** BaselineResult: how fast the operator's own identity gets N plain Secrets accepted at the same concurrency. */
export interface BaselineResult {
  seconds: number;
  writesPerSecond: number;
  /** cpu: where the machine's CPU went meanwhile (is the baseline limited by the apiserver or by the cores?). */
  cpu: CpuShare;
}

/** phaseCpu snapshots the CPU of the control plane, the operator, the emulator and the benchmark itself. */
function phaseCpu(env: BenchEnvironment) {
  return cpuSnapshot({ operator: env.operator?.pid, emulator: env.emulator.pid, bench: process.pid });
}

/** runBaseline creates N plain Secrets as the operator's ServiceAccount, C at a time. */
export async function runBaseline(ctx: PhaseContext): Promise<BaselineResult> {
  const { keys, concurrency } = ctx.opts;
  const { core, options } = ctx.env.identityClient;
  const namespace = ctx.env.plainNamespace;
  const cpu0 = await phaseCpu(ctx.env);
  const t0 = performance.now();
  await runPool(keys, concurrency, async (i) => {
    await core.createNamespacedSecret(
      {
        namespace,
        body: {
          metadata: { name: `plain-${i}`, namespace },
          stringData: { publicValue: `public-${i}`, secretValue: 'x'.repeat(40), url: ctx.env.emulator.url },
        },
      },
      options,
    );
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, writesPerSecond: keys / seconds, cpu: cpuShare(cpu0, await phaseCpu(ctx.env)) };
}

/** BurstResult: the burst's rate and what it cost in apiserver writes, Rancher calls and reconciles. */
export interface BurstResult {
  refs: string[];
  createSeconds: number;
  seconds: number;
  keysPerSecond: number;
  apiserverWrites: WriteCounts;
  rancher: RequestCounts;
  operator: OperatorCounters;
  /** benchCpuSeconds / benchLoopDelayP99Ms: load of the benchmark process itself (client, watches, emulator). */
  benchCpuSeconds: number;
  benchLoopDelayP99Ms: number;
  /** cpu: where the machine's CPU went from the first create to the last key converged. */
  cpu: CpuShare;
}

/** latestMilestone is the time the last of `refs` was both Ready and had its Secret. */
function latestMilestone(ctx: PhaseContext, refs: readonly string[]): number {
  let end = 0;
  for (const r of refs) {
    const k = ctx.tracker.key(r);
    end = Math.max(end, k.readyAt ?? 0, k.secretAt ?? 0);
  }
  return end;
}

async function waitConverged(ctx: PhaseContext, refs: readonly string[], what: string): Promise<void> {
  let lastLog = performance.now();
  await waitFor(
    `${what}: every ApiKey Ready with its Secret`,
    () => {
      const done = ctx.tracker.converged(refs);
      if (performance.now() - lastLog > 5_000) {
        ctx.progress(`  ${what}: ${done}/${refs.length} Ready`);
        lastLog = performance.now();
      }
      return done === refs.length;
    },
    Math.max(120_000, refs.length * 1_000),
    50,
  );
}

/** runBurst creates N ApiKeys as fast as C clients can, and times until every one is Ready with a Secret. */
export async function runBurst(ctx: PhaseContext): Promise<BurstResult> {
  const { keys, concurrency } = ctx.opts;
  const { env } = ctx;
  const refs = Array.from({ length: keys }, (_, i) => ref(ctx, 'key', i));
  const operator = env.operator;
  if (!operator) throw new Error('the operator is not running');
  const counters0 = await readOperatorCounters(operator);
  const writes0 = await readWriteCounts(env.cluster);
  await env.emulator.resetRequests();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const machine0 = await phaseCpu(env);
  const t0 = performance.now();
  await runPool(keys, concurrency, (i) => createApiKey(ctx, refs[i] ?? ''));
  const createSeconds = (performance.now() - t0) / 1000;
  ctx.progress(`  burst: ${keys} ApiKeys created in ${createSeconds.toFixed(1)} s`);
  await waitConverged(ctx, refs, 'burst');
  const seconds = (latestMilestone(ctx, refs) - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const machine = cpuShare(machine0, await phaseCpu(env));
  loop.disable();
  await sleep(2_000); // trailing writes of the convergence (Events, last status) belong to it
  const rancher = await env.emulator.requests();
  const writes1 = await readWriteCounts(env.cluster);
  const counters1 = await readOperatorCounters(operator);
  return {
    refs,
    createSeconds,
    seconds,
    keysPerSecond: keys / seconds,
    apiserverWrites: diffWrites(writes0, writes1, { 'POST apikeys': keys }),
    rancher,
    operator: diffCounters(counters0, counters1),
    benchCpuSeconds: (cpu.user + cpu.system) / 1e6,
    benchLoopDelayP99Ms: loop.percentile(99) / 1e6,
    cpu: machine,
  };
}

/** SteadyResult: what a converged operator writes and reads across at least one drift check of every key. */
export interface SteadyResult {
  windowSeconds: number;
  /** reconcilesPerKey counts the operator's ApiKey reconciles in the window (≥ 1: every key was looked at). */
  reconcilesPerKey: number;
  apiserverWrites: WriteCounts;
  rancher: RequestCounts;
}

async function apiKeyReconciles(ctx: PhaseContext): Promise<number> {
  const operator = ctx.env.operator;
  if (!operator) throw new Error('the operator is not running');
  const counters = await readOperatorCounters(operator);
  return Object.entries(counters)
    .filter(([k]) => k.startsWith('controller_runtime_reconcile_total{controller="apikey"'))
    .reduce((sum, [, v]) => sum + v, 0);
}

/**
 * runSteadyState watches a window of at least 1.2 × the drift-check interval + 1 s, extended (up to three
 * intervals) until the operator has reconciled as many times as there are keys, and counts writes and reads.
 */
export async function runSteadyState(ctx: PhaseContext): Promise<SteadyResult> {
  const intervalMs = ctx.opts.driftCheckIntervalS * 1000;
  const minMs = Math.ceil(intervalMs * 1.2 + 1000);
  const writes0 = await readWriteCounts(ctx.env.cluster);
  const reconciles0 = await apiKeyReconciles(ctx);
  await ctx.env.emulator.resetRequests();
  const t0 = performance.now();
  await sleep(minMs);
  while (performance.now() - t0 < 3 * intervalMs + 1000) {
    if ((await apiKeyReconciles(ctx)) - reconciles0 >= ctx.opts.keys) break;
    await sleep(1000);
  }
  const rancher = await ctx.env.emulator.requests();
  const writes1 = await readWriteCounts(ctx.env.cluster);
  const reconciles = (await apiKeyReconciles(ctx)) - reconciles0;
  return {
    windowSeconds: Math.round((performance.now() - t0) / 1000),
    reconcilesPerKey: reconciles / ctx.opts.keys,
    apiserverWrites: diffWrites(writes0, writes1),
    rancher,
  };
}

/** LatencyResult: create-to-Ready times of keys created one by one at a steady rate. */
export interface LatencyResult {
  refs: string[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** runLatency creates M keys at R per second (client-side create time to the watch seeing Ready). */
export async function runLatency(ctx: PhaseContext): Promise<LatencyResult> {
  const { latencyKeys, latencyRate } = ctx.opts;
  const refs = Array.from({ length: latencyKeys }, (_, i) => ref(ctx, 'lat', i));
  const t0 = performance.now();
  const creates: Promise<void>[] = [];
  for (let i = 0; i < refs.length; i++) {
    const due = t0 + (i * 1000) / latencyRate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const create = createApiKey(ctx, refs[i] ?? '');
    create.catch(() => undefined); // reported by Promise.all below, not as an unhandled rejection meanwhile
    creates.push(create);
  }
  await Promise.all(creates);
  await waitConverged(ctx, refs, 'latency');
  const ms = refs.map((r) => {
    const k = ctx.tracker.key(r);
    return (k.readyAt ?? Number.NaN) - (k.createdAt ?? Number.NaN);
  });
  return { refs, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), maxMs: Math.max(...ms) };
}

/** DeletionResult: how long deleting every key took until finalizers were gone and Rancher purged them all. */
export interface DeletionResult {
  keys: number;
  seconds: number;
  /** Seconds from the delete request to the first and to the median ApiKey gone (steady departures). */
  firstGoneSeconds: number;
  medianGoneSeconds: number;
  apiserverWrites: WriteCounts;
  rancher: RequestCounts;
}

/** runDeletion deletes every ApiKey of the run (one deletecollection per namespace) and waits for the purge. */
export async function runDeletion(ctx: PhaseContext, refs: readonly string[]): Promise<DeletionResult> {
  const { env } = ctx;
  const ids = refs.map((r) => ctx.tracker.key(r).id);
  if (ids.some((id) => id === undefined)) throw new Error('some ApiKeys never reported a Rancher id');
  const custom = env.admin.makeApiClient(CustomObjectsApi);
  const writes0 = await readWriteCounts(env.cluster);
  await env.emulator.resetRequests();
  const t0 = performance.now();
  for (const namespace of env.keyNamespaces) {
    await custom.deleteCollectionNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'apikeys',
      namespace,
      labelSelector: `${RUN_LABEL}=${env.runId}`,
    });
  }
  const pending = new Set(ids);
  // Purges seen on the first look happened before the last finalizer was gone; later ones are timed by the poll.
  let purgedAt = t0;
  let polls = 0;
  await waitFor(
    'deletion: every ApiKey gone and its Rancher key purged',
    async () => {
      if (ctx.tracker.deleted(refs) < refs.length) return false;
      for (const k of await env.emulator.keys())
        if (k.state === 'purged' && pending.delete(k.id) && polls > 0) purgedAt = performance.now();
      polls++;
      return pending.size === 0;
    },
    Math.max(120_000, refs.length * 1_000),
    200,
  );
  const goneAt = refs.map((r) => ctx.tracker.key(r).deletedAt ?? t0).sort((a, b) => a - b);
  const gone = goneAt.at(-1) ?? t0;
  const seconds = (Math.max(gone, purgedAt) - t0) / 1000;
  const firstGoneSeconds = ((goneAt[0] ?? t0) - t0) / 1000;
  const medianGoneSeconds = ((goneAt[Math.floor((goneAt.length - 1) / 2)] ?? t0) - t0) / 1000;
  await sleep(2_000);
  const rancher = await env.emulator.requests();
  const writes1 = await readWriteCounts(env.cluster);
  const own = { 'DELETE apikeys': env.keyNamespaces.length };
  return {
    keys: refs.length,
    seconds,
    firstGoneSeconds,
    medianGoneSeconds,
    apiserverWrites: diffWrites(writes0, writes1, own),
    rancher,
  };
}

/** createUnrelatedSecrets adds U Secrets the operator must not care about (as admin, in a watched namespace). */
export async function createUnrelatedSecrets(ctx: PhaseContext): Promise<void> {
  const { core, options } = ctx.env.adminClient;
  const namespace = ctx.env.unrelatedNamespace;
  const payload = Buffer.alloc(256, 'u').toString('base64');
  await runPool(ctx.opts.unrelatedSecrets, Math.max(16, ctx.opts.concurrency), async (i) => {
    await core.createNamespacedSecret(
      {
        namespace,
        body: {
          metadata: { name: `unrelated-${i}`, namespace, labels: { app: 'unrelated' } },
          data: { blob: payload },
        },
      },
      options,
    );
  });
}

export { totalWrites };
