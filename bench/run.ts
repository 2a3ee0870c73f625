import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { type BenchCluster, ROOT } from './cluster.ts';
import { prepareEnvironment, startOperator, teardownEnvironment } from './environment.ts';
import type { CpuShare } from './machine-cpu.ts';
import { measureFloor } from './operator-build.ts';
import { heapUsedMiB, type MemoryBreakdown, memoryBreakdown, rssMiB } from './operator-stats.ts';
import type { BenchOptions } from './options.ts';
import {
  createUnrelatedSecrets,
  type PhaseContext,
  runBaseline,
  runBurst,
  runDeletion,
  runLatency,
  runSteadyState,
  totalWrites,
} from './phases.ts';
import { median, sleep } from './pool.ts';
import { startTracker } from './tracker.ts';

/** BenchResult is the benchmark's outcome; the CLI prints it as a table or as one JSON line. */
export interface BenchResult {
  keys: number;
  concurrency: number;
  rancherLatencyMs: number;
  baselineWritesPerSecond: number;
  burstSeconds: number;
  keysPerSecond: number;
  /** ratioToLimit is keysPerSecond ÷ (baselineWritesPerSecond / 3); ≥ 1 meets the target. */
  ratioToLimit: number;
  /** keysPerSecondOverBaseline is keysPerSecond ÷ baselineWritesPerSecond (DESIGN.md read literally: ≥ 0.5). */
  keysPerSecondOverBaseline: number;
  allReady: boolean;
  apiserverWritesPerKey: number;
  apiserverWritesByRequest: Record<string, number>;
  rancherCallsPerKey: number;
  rancherWritesPerKey: number;
  rancherCallsByRoute: Record<string, number>;
  steadyStateWindowSeconds: number;
  steadyStateReconcilesPerKey: number;
  steadyStateApiserverWrites: number;
  steadyStateApiserverWritesByRequest: Record<string, number>;
  steadyStateRancherWrites: number;
  steadyStateRancherReadsPerKey: number;
  /** steadyStateRancherRequestsPerKeyPerInterval is every Rancher request of the window ÷ keys ÷ (window ÷ drift interval). */
  steadyStateRancherRequestsPerKeyPerInterval: number;
  steadyStateRancherCallsByRoute: Record<string, number>;
  latencyKeys: number;
  latencyRatePerSecond: number;
  p50CreateToReadyMs: number;
  p99CreateToReadyMs: number;
  maxCreateToReadyMs: number;
  deletionKeys: number;
  deletionSeconds: number;
  deletionApiserverWritesPerKey: number;
  deletionApiserverWritesByRequest: Record<string, number>;
  deletionRancherWritesPerKey: number;
  deletionRancherReadsPerKey: number;
  deletionFirstGoneSeconds: number;
  deletionMedianGoneSeconds: number;
  deletionRancherCallsByRoute: Record<string, number>;
  rssMiBAfterConvergence: number;
  unrelatedSecrets: number;
  /** rssMiBBeforeUnrelatedSecrets is sampled after the latency phase (N + latencyKeys keys), the baseline for the next. */
  rssMiBBeforeUnrelatedSecrets: number;
  rssMiBWithUnrelatedSecrets: number;
  /** Operator CPU (user + system) during the burst, per new key. */
  operatorCpuMsPerKey: number;
  /** ApiKey reconcile passes during the burst that did work (not skipped as an echo), per new key. */
  reconcilesPerNewKey: number;
  /** Passes skipped during the burst (woken only by the echo of their own writes), per new key. */
  skippedPassesPerNewKey: number;
  /** deferredPassesPerNewKey: passes the tenant budget deferred during the burst (a slow namespace at its cap). */
  deferredPassesPerNewKey: number;
  operatorCountersDuringBurst: Record<string, number>;
  benchProcessCpuSecondsDuringBurst: number;
  benchProcessLoopDelayP99Ms: number;
  /**
   * baselineCpu / burstCpu: cores each process used during the phase (operator, apiserver, etcd,
   * controllerManager, emulator, bench) and the machine's busy share: which process a burst waits on.
   */
  baselineCpu: CpuShare;
  burstCpu: CpuShare;
  /** heapUsedMiB* come from the operator's nodejs_heap_size_used_bytes next to each RSS sample. */
  heapUsedMiBAfterConvergence: number;
  heapUsedMiBBeforeUnrelatedSecrets: number;
  heapUsedMiBWithUnrelatedSecrets: number;
  /** rssMiBFloor: RSS of a process that only imported the built operator's dependencies (floorImports), after a GC. */
  rssMiBFloor: number;
  floorImports: string[];
  /** rssMiBAtZeroKeys: the operator started, caches synced, every connection Ready, no ApiKey yet. */
  rssMiBAtZeroKeys: number;
  /** heapUsedMiBAfterGc*: V8 heap in use right after a forced full GC (the live set), from the memory probe. */
  heapUsedMiBAfterGcAtZeroKeys: number;
  heapUsedMiBAfterGcAfterConvergence: number;
  heapUsedMiBAfterGcWithUnrelatedSecrets: number;
  /** heapKiBPerKey = (live heap after convergence at N keys − live heap at 0 keys) ÷ N. */
  heapKiBPerKey: number;
  /** memoryBreakdown: where the RSS goes (MiB) at 0 keys, after convergence and with the unrelated Secrets. */
  memoryBreakdown: Record<'atZeroKeys' | 'afterConvergence' | 'withUnrelatedSecrets', MemoryBreakdown>;
  machine: string;
  /** loadAverage is the machine's 1-minute load average when the burst started and when the run ended. */
  loadAverage: [number, number];
  date: string;
  /** operatorVersion is the commit the operator ran from, with `+uncommitted-src` when src/ had local changes. */
  operatorVersion: string;
}

/** MemorySample is the operator's RSS (median of six readings over 3 s) and V8 heap in use (the lowest), in MiB. */
interface MemorySample {
  rss: number;
  heap: number;
}

async function sampleBreakdown(ctx: PhaseContext): Promise<MemoryBreakdown> {
  const operator = ctx.env.operator;
  if (!operator) throw new Error('the operator is not running');
  return memoryBreakdown(operator, ctx.env.memoryFile);
}

async function sampleRss(ctx: PhaseContext): Promise<MemorySample> {
  const operator = ctx.env.operator;
  if (!operator) throw new Error('the operator is not running');
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 6; i++) {
    rss.push(await rssMiB(operator));
    heap.push(await heapUsedMiB(operator));
    await sleep(500);
  }
  // The lowest heap reading is the closest to the live set (right after a collection); RSS barely moves.
  return { rss: median(rss), heap: Math.min(...heap) };
}

function gitVersion(): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src']).stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? '+uncommitted-src' : ''}`;
}

/** apikeyReconciles sums the ApiKey controller's reconcile counter over its result labels. */
function apikeyReconciles(counters: Record<string, number>): number {
  return Object.entries(counters)
    .filter(([name]) => name.startsWith('controller_runtime_reconcile_total{controller="apikey"'))
    .reduce((sum, [, v]) => sum + v, 0);
}

/** counterSum adds every series of the counters whose `name{labels}` passes `match`. */
function counterSum(counters: Record<string, number>, match: (series: string) => boolean): number {
  return Object.entries(counters)
    .filter(([series]) => match(series))
    .reduce((sum, [, v]) => sum + v, 0);
}

/** skippedPasses sums the ApiKey passes that returned at once (echo of own writes, released ApiKeys). */
function skippedPasses(counters: Record<string, number>): number {
  return counterSum(counters, (s) => s.startsWith('rancher_apikey_operator_apikey_passes_skipped_total'));
}

const BUDGET_DEFERRED = (s: string) =>
  s.startsWith('rancher_apikey_operator_tenant_budget_passes_total') && s.includes('outcome="deferred"');

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * runBenchmark runs every phase against `cluster` (baseline, burst, steady state, memory, latency, memory
 * with unrelated Secrets, deletion) and always stops the operator and the emulator it started.
 */
export async function runBenchmark(
  cluster: BenchCluster,
  opts: BenchOptions,
  progress: (line: string) => void,
  teardown: {
    deleteNamespaces: boolean;
    /** onEnvironment receives a function that stops the operator and the emulator (for signal handlers). */
    onEnvironment?: (stop: () => Promise<void>) => void;
  } = { deleteNamespaces: false },
): Promise<BenchResult> {
  progress(`setup: CRDs, emulator, ${opts.namespaces} namespaces, deploy/ identity, connections`);
  const env = await prepareEnvironment(cluster, opts);
  teardown.onEnvironment?.(() => teardownEnvironment(env, false));
  const tracker = await startTracker(env.admin, env.runId, env.keyNamespaces);
  const ctx: PhaseContext = { env, opts, tracker, progress };
  try {
    const floor = await measureFloor(env.built, env.tuning);
    progress(`floor: ${floor.rssMiB.toFixed(1)} MiB RSS importing ${floor.imports.join(', ')}`);
    progress(
      `baseline: ${opts.keys} plain Secrets as the operator's ServiceAccount, concurrency ${opts.concurrency}`,
    );
    const baseline = await runBaseline(ctx);
    progress(
      `  baseline: ${baseline.writesPerSecond.toFixed(1)} writes/s (${baseline.seconds.toFixed(1)} s)`,
    );
    progress('operator: starting (deploy/ identity)');
    await startOperator(env, opts);
    await sleep(5_000);
    const rssZero = await sampleRss(ctx);
    const atZero = await sampleBreakdown(ctx);
    progress(
      `memory: ${rssZero.rss.toFixed(1)} MiB RSS at 0 keys (live heap ${atZero.v8HeapUsed.toFixed(1)} after a GC)`,
    );
    progress(
      `burst: ${opts.keys} ApiKeys over ${opts.namespaces} namespaces, concurrency ${opts.concurrency}`,
    );
    const loadAtBurst = loadavg()[0] ?? Number.NaN;
    const burst = await runBurst(ctx);
    const N = opts.keys;
    progress(`  burst: ${burst.keysPerSecond.toFixed(1)} keys/s (${burst.seconds.toFixed(1)} s)`);
    progress(
      `writes: ${totalWrites(burst.apiserverWrites)} apiserver, ${burst.rancher.total} Rancher (${burst.rancher.writes} writes)`,
    );
    progress(
      `steady state: window of ≥ ${Math.ceil(opts.driftCheckIntervalS * 1.2 + 1)} s (drift check every ${opts.driftCheckIntervalS} s)`,
    );
    const steady = await runSteadyState(ctx);
    progress(
      `  steady state: ${totalWrites(steady.apiserverWrites)} apiserver writes, ${steady.rancher.writes} Rancher writes, ${steady.rancher.reads} Rancher reads`,
    );
    const rssConverged = await sampleRss(ctx);
    const converged = await sampleBreakdown(ctx);
    const heapKiBPerKey = ((converged.v8HeapUsed - atZero.v8HeapUsed) * 1024) / N;
    progress(`  breakdown (MiB) at 0 keys: ${JSON.stringify(atZero)}`);
    progress(`  breakdown (MiB) at ${N} keys: ${JSON.stringify(converged)}`);
    progress(
      `memory: ${rssConverged.rss.toFixed(1)} MiB RSS (heap ${rssConverged.heap.toFixed(1)}, live ${converged.v8HeapUsed.toFixed(1)} after a GC: ${heapKiBPerKey.toFixed(1)} KiB per key) at ${N} keys`,
    );
    progress(`latency: ${opts.latencyKeys} new keys at ${opts.latencyRate}/s`);
    const latency = await runLatency(ctx);
    progress(`  latency: p50 ${latency.p50Ms.toFixed(0)} ms, p99 ${latency.p99Ms.toFixed(0)} ms`);
    const rssBeforeUnrelated = await sampleRss(ctx);
    progress(
      `memory: ${rssBeforeUnrelated.rss.toFixed(1)} MiB RSS (heap ${rssBeforeUnrelated.heap.toFixed(1)}) at ${N + latency.refs.length} keys; adding ${opts.unrelatedSecrets} unrelated Secrets, then 10 s`,
    );
    await createUnrelatedSecrets(ctx);
    await sleep(10_000);
    const rssUnrelated = await sampleRss(ctx);
    const withUnrelated = await sampleBreakdown(ctx);
    progress(`  breakdown (MiB) with the unrelated Secrets: ${JSON.stringify(withUnrelated)}`);
    progress(
      `  memory: ${rssUnrelated.rss.toFixed(1)} MiB RSS (heap ${rssUnrelated.heap.toFixed(1)}) with ${opts.unrelatedSecrets} unrelated Secrets`,
    );
    const all = [...burst.refs, ...latency.refs];
    progress(`deletion: ${all.length} ApiKeys`);
    const deletion = await runDeletion(ctx, all);
    progress(`  deletion: ${deletion.seconds.toFixed(1)} s`);
    return {
      keys: N,
      concurrency: opts.concurrency,
      rancherLatencyMs: opts.rancherLatencyMs,
      baselineWritesPerSecond: round(baseline.writesPerSecond, 1),
      burstSeconds: round(burst.seconds),
      keysPerSecond: round(burst.keysPerSecond, 1),
      ratioToLimit: round(burst.keysPerSecond / (baseline.writesPerSecond / 3)),
      keysPerSecondOverBaseline: round(burst.keysPerSecond / baseline.writesPerSecond, 3),
      allReady: tracker.converged(burst.refs) === N,
      apiserverWritesPerKey: round(totalWrites(burst.apiserverWrites) / N),
      apiserverWritesByRequest: burst.apiserverWrites,
      rancherCallsPerKey: round(burst.rancher.total / N),
      rancherWritesPerKey: round(burst.rancher.writes / N),
      rancherCallsByRoute: burst.rancher.byRoute,
      steadyStateWindowSeconds: steady.windowSeconds,
      steadyStateReconcilesPerKey: round(steady.reconcilesPerKey),
      steadyStateApiserverWrites: totalWrites(steady.apiserverWrites),
      steadyStateApiserverWritesByRequest: steady.apiserverWrites,
      steadyStateRancherWrites: steady.rancher.writes,
      steadyStateRancherReadsPerKey: round(steady.rancher.reads / N),
      steadyStateRancherRequestsPerKeyPerInterval: round(
        steady.rancher.total / N / (steady.windowSeconds / opts.driftCheckIntervalS),
        4,
      ),
      steadyStateRancherCallsByRoute: steady.rancher.byRoute,
      latencyKeys: latency.refs.length,
      latencyRatePerSecond: opts.latencyRate,
      p50CreateToReadyMs: Math.round(latency.p50Ms),
      p99CreateToReadyMs: Math.round(latency.p99Ms),
      maxCreateToReadyMs: Math.round(latency.maxMs),
      deletionKeys: deletion.keys,
      deletionSeconds: round(deletion.seconds),
      deletionApiserverWritesPerKey: round(totalWrites(deletion.apiserverWrites) / deletion.keys),
      deletionApiserverWritesByRequest: deletion.apiserverWrites,
      deletionRancherWritesPerKey: round(deletion.rancher.writes / deletion.keys),
      deletionRancherReadsPerKey: round(deletion.rancher.reads / deletion.keys),
      deletionFirstGoneSeconds: round(deletion.firstGoneSeconds),
      deletionMedianGoneSeconds: round(deletion.medianGoneSeconds),
      deletionRancherCallsByRoute: deletion.rancher.byRoute,
      rssMiBAfterConvergence: round(rssConverged.rss, 1),
      unrelatedSecrets: opts.unrelatedSecrets,
      rssMiBBeforeUnrelatedSecrets: round(rssBeforeUnrelated.rss, 1),
      rssMiBWithUnrelatedSecrets: round(rssUnrelated.rss, 1),
      operatorCpuMsPerKey: round(((burst.operator.process_cpu_seconds_total ?? Number.NaN) * 1000) / N, 1),
      reconcilesPerNewKey: round((apikeyReconciles(burst.operator) - skippedPasses(burst.operator)) / N),
      skippedPassesPerNewKey: round(skippedPasses(burst.operator) / N),
      deferredPassesPerNewKey: round(counterSum(burst.operator, BUDGET_DEFERRED) / N),
      operatorCountersDuringBurst: burst.operator,
      benchProcessCpuSecondsDuringBurst: round(burst.benchCpuSeconds, 1),
      benchProcessLoopDelayP99Ms: round(burst.benchLoopDelayP99Ms, 1),
      baselineCpu: baseline.cpu,
      burstCpu: burst.cpu,
      heapUsedMiBAfterConvergence: round(rssConverged.heap, 1),
      heapUsedMiBBeforeUnrelatedSecrets: round(rssBeforeUnrelated.heap, 1),
      heapUsedMiBWithUnrelatedSecrets: round(rssUnrelated.heap, 1),
      rssMiBFloor: round(floor.rssMiB, 1),
      floorImports: floor.imports,
      rssMiBAtZeroKeys: round(rssZero.rss, 1),
      heapUsedMiBAfterGcAtZeroKeys: round(atZero.v8HeapUsed),
      heapUsedMiBAfterGcAfterConvergence: round(converged.v8HeapUsed),
      heapUsedMiBAfterGcWithUnrelatedSecrets: round(withUnrelated.v8HeapUsed),
      heapKiBPerKey: round(heapKiBPerKey, 1),
      memoryBreakdown: {
        atZeroKeys: atZero,
        afterConvergence: converged,
        withUnrelatedSecrets: withUnrelated,
      },
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      loadAverage: [round(loadAtBurst, 1), round(loadavg()[0] ?? Number.NaN, 1)],
      date: new Date().toISOString(),
      operatorVersion: gitVersion(),
    };
  } catch (err) {
    const tail = env.operator?.lines.slice(-15) ?? [];
    if (tail.length > 0) progress(`operator log (last ${tail.length} lines):\n${tail.join('\n')}`);
    throw err;
  } finally {
    await tracker.stop().catch(() => undefined);
    await teardownEnvironment(env, teardown.deleteNamespaces);
  }
}
