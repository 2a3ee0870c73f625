// `npm run bench -- --shards S`: the burst of N ApiKeys reconciled by one operator, then N more by S shards (one
// process each, disjoint label selectors), in one run on one control plane, with the machine's CPU use during
// each burst, so the report can say whether the operator or the machine was the limit (docs/install.md, "Sharding").
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { type OperatorProcess, startOperatorProcess } from '../test/e2e/support/operator-process.ts';
import { diffWrites, readWriteCounts, totalWrites } from './apiserver-writes.ts';
import type { BenchCluster } from './cluster.ts';
import {
  type BenchEnvironment,
  OPERATOR_NAMESPACE,
  prepareEnvironment,
  startOperator,
  teardownEnvironment,
} from './environment.ts';
import { diffCounters, type OperatorCounters, readOperatorCounters, rssMiB } from './operator-stats.ts';
import type { BenchOptions } from './options.ts';
import { type PhaseContext, runBaseline, runDeletion } from './phases.ts';
import { runPool, sleep, waitFor } from './pool.ts';
import { type BurstFigures, type ShardBenchResult, verdict } from './shards-report.ts';
import { RUN_LABEL, startTracker } from './tracker.ts';

export { renderShardTable, takeShardsFlag } from './shards-report.ts';

/** SHARD_LABEL selects a burst key's shard. */
const SHARD_LABEL = 'bench.keyops.dev/shard';

/** cpuTicks reads the machine's busy and total CPU time (all cores) from /proc/stat. */
function cpuTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

const cpuSeconds = async (p: OperatorProcess) =>
  (await readOperatorCounters(p)).process_cpu_seconds_total ?? Number.NaN;

async function passesOf(p: OperatorProcess): Promise<number> {
  return Object.entries(await readOperatorCounters(p))
    .filter(([name]) => name.startsWith('controller_runtime_reconcile_total{controller="apikey"'))
    .reduce((sum, [, v]) => sum + v, 0);
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** deferredOf counts the passes the tenant budget deferred (a slow namespace at its cap), every namespace. */
async function deferredOf(p: OperatorProcess): Promise<number> {
  return (await p.metrics())
    .split('\n')
    .filter(
      (l) => l.startsWith('rancher_apikey_operator_tenant_budget_passes_total{') && l.includes('"deferred"'),
    )
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function claimsOf(p: OperatorProcess): Promise<number> {
  const text = await p.metrics();
  return text
    .split('\n')
    .filter(
      (l) => l.startsWith('rancher_apikey_operator_shard_claims_total{') && l.includes('action="claim"'),
    )
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** burst creates N ApiKeys (label `shardOf(i)`) and times until every one is Ready with its Secret. */
async function burst(
  ctx: PhaseContext,
  prefix: string,
  processes: OperatorProcess[],
  shardOf: (i: number) => string | undefined,
): Promise<{ figures: BurstFigures; refs: string[] }> {
  const { env, opts, tracker } = ctx;
  const refs = Array.from({ length: opts.keys }, (_, i) => {
    const ns = env.keyNamespaces[i % env.keyNamespaces.length] ?? '';
    return `${ns}/${prefix}-${String(i).padStart(5, '0')}`;
  });
  const counters0 = await Promise.all(processes.map(readOperatorCounters));
  const cpu0 = await Promise.all(processes.map(cpuSeconds));
  const claims0 = await Promise.all(processes.map(claimsOf));
  const passes0 = sum(await Promise.all(processes.map(passesOf)));
  const deferred0 = sum(await Promise.all(processes.map(deferredOf)));
  const writes0 = await readWriteCounts(env.cluster);
  const machine0 = cpuTicks();
  const t0 = performance.now();
  await runPool(refs.length, opts.concurrency, async (i) => {
    const [namespace = '', name = ''] = (refs[i] ?? '').split('/');
    const shard = shardOf(i);
    tracker.markCreated(refs[i] ?? '', performance.now());
    await env.adminClient.custom.createNamespacedCustomObject(
      {
        group: 'rancher.keyops.dev',
        version: 'v1alpha1',
        plural: 'apikeys',
        namespace,
        body: {
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          kind: 'ApiKey',
          metadata: {
            name,
            namespace,
            labels: { [RUN_LABEL]: env.runId, ...(shard ? { [SHARD_LABEL]: shard } : {}) },
          },
          spec: { connectionRef: { name: 'rancher' } },
        },
      },
      env.adminClient.options,
    );
  });
  await waitFor(`${prefix}: every ApiKey Ready`, () => tracker.converged(refs) === refs.length, 600_000, 50);
  let end = 0;
  for (const r of refs) end = Math.max(end, tracker.key(r).readyAt ?? 0, tracker.key(r).secretAt ?? 0);
  const seconds = (end - t0) / 1000;
  const machine1 = cpuTicks();
  const cpu1 = await Promise.all(processes.map(cpuSeconds));
  const used = cpu1.map((c, i) => c - (cpu0[i] ?? 0));
  const claims = await Promise.all(processes.map(claimsOf));
  await sleep(2_000); // the convergence's trailing writes (last status, Events) belong to it
  const writes = totalWrites(
    diffWrites(writes0, await readWriteCounts(env.cluster), { 'POST apikeys': refs.length }),
  );
  const passes = sum(await Promise.all(processes.map(passesOf))) - passes0;
  const deferred = sum(await Promise.all(processes.map(deferredOf))) - deferred0;
  const rss = await Promise.all(processes.map(rssMiB));
  const counters: OperatorCounters = {};
  for (const [i, p] of processes.entries())
    for (const [k, v] of Object.entries(diffCounters(counters0[i] ?? {}, await readOperatorCounters(p))))
      counters[k] = (counters[k] ?? 0) + v;
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  const figures: BurstFigures = {
    processes: processes.length,
    seconds: round(seconds),
    keysPerSecond: round(refs.length / seconds, 1),
    operatorCpuMsPerKey: round((sum(used) * 1000) / refs.length, 1),
    busiestOperatorCpuShare: round(Math.max(...used) / seconds),
    machineBusyShare: round((machine1.busy - machine0.busy) / (machine1.total - machine0.total)),
    keysPerProcess: processes.length === 1 ? [refs.length] : claims.map((c, i) => c - (claims0[i] ?? 0)),
    apiserverWritesPerKey: round(writes / refs.length),
    passesPerKey: round(passes / refs.length),
    deferredPassesPerKey: round(deferred / refs.length),
    rssMiBPerProcess: rss.map((r) => round(r, 1)),
    operatorCounters: counters,
  };
  return { figures, refs };
}

/** startShards runs S operator processes, shard i selecting `bench.keyops.dev/shard=s<i>`; shard 0 checks connections. */
async function startShards(
  env: BenchEnvironment,
  opts: BenchOptions,
  count: number,
): Promise<OperatorProcess[]> {
  const out: OperatorProcess[] = [];
  for (let i = 0; i < count; i++) {
    const name = `bench-${env.runId}-s${i}`;
    const p = startOperatorProcess({
      kubeconfigPath: env.identityKubeconfigPath,
      entry: env.built.main,
      env: {
        NODE_ENV: 'production',
        ...env.tuning,
        // --cpu-prof-dir profiles the shards too (one file per process, written when it stops).
        ...(opts.cpuProfDir
          ? { NODE_OPTIONS: `${env.tuning.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${opts.cpuProfDir}` }
          : {}),
        WATCH_NAMESPACES: [...env.keyNamespaces, env.unrelatedNamespace].join(','),
        POD_NAMESPACE: OPERATOR_NAMESPACE,
        POD_NAME: name,
        SHARD_NAME: name,
        WATCH_LABEL_SELECTOR: `${SHARD_LABEL}=s${i}`,
        RECONCILE_CONNECTIONS: i === 0 ? 'all' : 'none',
        CONCURRENCY: String(opts.concurrency),
        DRIFT_CHECK_INTERVAL: `${opts.driftCheckIntervalS}s`,
        LOG_LEVEL: opts.operatorLogLevel,
      },
    });
    out.push(p);
  }
  await Promise.all(out.map((p) => p.waitReady(60_000)));
  return out;
}

/**
 * runShardBenchmark measures, in one run: the baseline write rate, a burst of N keys on one operator (the
 * default Deployment), which then deletes them, and a burst of N new keys spread over S shards.
 */
export async function runShardBenchmark(
  cluster: BenchCluster,
  opts: BenchOptions,
  shardCount: number,
  progress: (line: string) => void,
  onEnvironment?: (stop: () => Promise<void>) => void,
): Promise<ShardBenchResult> {
  progress(`setup: CRDs, emulator, ${opts.namespaces} namespaces, deploy/ identity, connections`);
  const env = await prepareEnvironment(cluster, opts);
  const shards: OperatorProcess[] = [];
  const stopAll = async () => {
    for (const p of shards) await p.stop().catch(() => undefined);
    await teardownEnvironment(env, false);
  };
  onEnvironment?.(stopAll);
  const tracker = await startTracker(env.admin, env.runId, env.keyNamespaces);
  const ctx: PhaseContext = { env, opts, tracker, progress };
  try {
    const baseline = await runBaseline(ctx);
    progress(`baseline: ${baseline.writesPerSecond.toFixed(1)} writes/s`);
    const one = await startOperator(env, opts);
    await sleep(3_000);
    progress(`burst on one operator: ${opts.keys} ApiKeys`);
    const first = await burst(ctx, 'one', [one], () => undefined);
    const single = first.figures;
    progress(`  one operator: ${single.keysPerSecond} keys/s, machine ${single.machineBusyShare}`);
    // The shards start from the same state: no ApiKey, no managed Secret (every shard caches all of those).
    progress(`deleting the ${opts.keys} ApiKeys of the first burst`);
    await runDeletion(ctx, first.refs);
    await one.stop();
    env.operator = undefined;
    shards.push(...(await startShards(env, opts, shardCount)));
    await sleep(3_000);
    progress(`burst on ${shardCount} shards: ${opts.keys} ApiKeys`);
    const sharded = (await burst(ctx, 'sharded', shards, (i) => `s${i % shardCount}`)).figures;
    progress(`  ${shardCount} shards: ${sharded.keysPerSecond} keys/s, machine ${sharded.machineBusyShare}`);
    return {
      keys: opts.keys,
      shards: shardCount,
      concurrency: opts.concurrency,
      cores: cpus().length,
      baselineWritesPerSecond: Math.round(baseline.writesPerSecond * 10) / 10,
      single,
      sharded,
      speedup: Math.round((sharded.keysPerSecond / single.keysPerSecond) * 100) / 100,
      limit: verdict(single, sharded),
      loadAverage: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      date: new Date().toISOString(),
    };
  } finally {
    await tracker.stop().catch(() => undefined);
    await stopAll();
  }
}
