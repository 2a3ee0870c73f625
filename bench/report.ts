import type { CpuShare } from './machine-cpu.ts';
import type { BenchResult } from './run.ts';

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

const routes = (byRoute: Record<string, number>, keys: number): string =>
  Object.entries(byRoute)
    .sort((a, b) => b[1] - a[1])
    .map(([route, n]) => `${route} ${fmt(n / keys, 2)}`)
    .join(', ');

const cpu = (c: CpuShare): string =>
  `machine ${Math.round(c.machineBusyFraction * 100)}% busy of ${c.cores} cores; cores used: ${Object.entries(
    c.coresByProcess,
  )
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fmt(n, 2)}`)
    .join(', ')}`;

/** renderTable formats a BenchResult for people: one row per figure, with the target where there is one. */
export function renderTable(r: BenchResult): string {
  const rows: [string, string, string][] = [
    ['baseline (plain Secret writes/s, operator identity)', fmt(r.baselineWritesPerSecond), ''],
    ['burst: keys/s until all Ready with a Secret', `${fmt(r.keysPerSecond)} (${fmt(r.burstSeconds)} s)`, ''],
    ['ratioToLimit = keys/s ÷ (baseline/3)', fmt(r.ratioToLimit, 2), '≥ 1'],
    ['keys/s ÷ baseline writes/s', fmt(r.keysPerSecondOverBaseline, 3), ''],
    ['every key Ready', String(r.allReady), 'true'],
    ['apiserver writes per key', fmt(r.apiserverWritesPerKey, 2), '≤ 4'],
    ['Rancher writes per key (creation)', fmt(r.rancherWritesPerKey, 2), '≤ 1'],
    ['Rancher calls per key (creation, all)', fmt(r.rancherCallsPerKey, 2), ''],
    [
      `steady state apiserver writes (${r.steadyStateWindowSeconds} s)`,
      String(r.steadyStateApiserverWrites),
      '0',
    ],
    ['steady state Rancher writes', String(r.steadyStateRancherWrites), '0'],
    ['steady state reconciles per key', fmt(r.steadyStateReconcilesPerKey, 2), '≥ 1'],
    ['steady state Rancher reads per key', fmt(r.steadyStateRancherReadsPerKey, 2), ''],
    [
      'steady state Rancher requests per key per drift interval',
      fmt(r.steadyStateRancherRequestsPerKeyPerInterval, 4),
      '≤ 0.02',
    ],
    [
      `create-to-Ready p50 / p99 / max (${r.latencyKeys} keys at ${r.latencyRatePerSecond}/s)`,
      `${r.p50CreateToReadyMs} / ${r.p99CreateToReadyMs} / ${r.maxCreateToReadyMs} ms`,
      '',
    ],
    [`deletion of ${r.deletionKeys} keys (finalizers gone, purged)`, `${fmt(r.deletionSeconds)} s`, ''],
    [
      'deletion: first / median ApiKey gone after',
      `${fmt(r.deletionFirstGoneSeconds, 2)} / ${fmt(r.deletionMedianGoneSeconds, 2)} s`,
      '',
    ],
    [
      'deletion: apiserver writes / Rancher writes / Rancher reads per key',
      `${fmt(r.deletionApiserverWritesPerKey, 2)} / ${fmt(r.deletionRancherWritesPerKey, 2)} / ${fmt(r.deletionRancherReadsPerKey, 2)}`,
      '≤ 3 / ≤ 3 / ≤ 3',
    ],
    [
      'burst: operator CPU per new key / passes per new key (+ skipped echoes)',
      `${fmt(r.operatorCpuMsPerKey, 1)} ms / ${fmt(r.reconcilesPerNewKey, 2)} (+ ${fmt(r.skippedPassesPerNewKey, 2)})`,
      '≤ 3 ms / 1',
    ],
    ['burst: passes the tenant budget deferred per new key', fmt(r.deferredPassesPerNewKey, 2), ''],
    ['RSS floor (only the dependencies imported)', `${fmt(r.rssMiBFloor)} MiB`, ''],
    [
      'RSS at 0 keys (caches synced)',
      `${fmt(r.rssMiBAtZeroKeys)} MiB (live heap ${fmt(r.heapUsedMiBAfterGcAtZeroKeys)})`,
      '',
    ],
    [
      `RSS after convergence (${r.keys} keys)`,
      `${fmt(r.rssMiBAfterConvergence)} MiB (heap ${fmt(r.heapUsedMiBAfterConvergence)}, live ${fmt(r.heapUsedMiBAfterGcAfterConvergence)})`,
      r.keys > 1_000 ? '≤ 256 up to 10,000' : '≤ 160',
    ],
    ['live heap per key (after a forced GC)', `${fmt(r.heapKiBPerKey)} KiB`, '≤ 8'],
    [
      `RSS at ${r.keys + r.latencyKeys} keys, before the unrelated Secrets`,
      `${fmt(r.rssMiBBeforeUnrelatedSecrets)} MiB (heap ${fmt(r.heapUsedMiBBeforeUnrelatedSecrets)})`,
      '',
    ],
    [
      `RSS with ${r.unrelatedSecrets} unrelated Secrets`,
      `${fmt(r.rssMiBWithUnrelatedSecrets)} MiB (heap ${fmt(r.heapUsedMiBWithUnrelatedSecrets)}, live ${fmt(r.heapUsedMiBAfterGcWithUnrelatedSecrets)})`,
      'no growth',
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const head = `rancher-apikey-operator benchmark: ${r.keys} keys, concurrency ${r.concurrency}, Rancher latency ${r.rancherLatencyMs} ms\n${r.machine} (load ${r.loadAverage.join(' → ')}), ${r.date}, operator ${r.operatorVersion}`;
  const body = rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd()).join('\n');
  const details = [
    `benchmark process during the burst (client, watches, emulator): ${fmt(r.benchProcessCpuSecondsDuringBurst)} CPU-s, event loop delay p99 ${fmt(r.benchProcessLoopDelayP99Ms)} ms`,
    `CPU during the baseline: ${cpu(r.baselineCpu)}`,
    `CPU during the burst: ${cpu(r.burstCpu)}`,
    `apiserver writes per key, by request: ${routes(r.apiserverWritesByRequest, r.keys)}`,
    `Rancher calls per key during the burst, by route: ${routes(r.rancherCallsByRoute, r.keys)}`,
    `Rancher calls in the steady-state window, by route: ${Object.entries(r.steadyStateRancherCallsByRoute)
      .map(([route, n]) => `${route} ${n}`)
      .join(', ')}`,
    `apiserver writes per key during deletion, by request: ${routes(r.deletionApiserverWritesByRequest, r.deletionKeys)}`,
    `Rancher calls per key during deletion, by route: ${routes(r.deletionRancherCallsByRoute, r.deletionKeys)}`,
    `memory breakdown (MiB) at 0 keys: ${JSON.stringify(r.memoryBreakdown.atZeroKeys)}`,
    `memory breakdown (MiB) after convergence: ${JSON.stringify(r.memoryBreakdown.afterConvergence)}`,
  ].join('\n');
  return `${head}\n\n${body}\n\n${details}\n`;
}
