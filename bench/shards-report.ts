// The shard benchmark's figures, its --shards flag, its verdict and its table (bench/shards.ts runs it).

/** takeShardsFlag removes `--shards S` (or `--shards=S`) from argv; shards is undefined when absent. */
export function takeShardsFlag(argv: readonly string[]): { shards: number | undefined; rest: string[] } {
  const rest: string[] = [];
  let shards: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const value = a.startsWith('--shards=')
      ? a.slice('--shards='.length)
      : a === '--shards'
        ? argv[++i]
        : undefined;
    if (value === undefined) {
      rest.push(a);
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 2 || n > 8)
      throw new Error(`--shards must be an integer from 2 to 8 (got ${value})`);
    shards = n;
  }
  return { shards, rest };
}

/** BurstFigures are one burst's rate and what it cost the operator process(es) and the machine. */
export interface BurstFigures {
  processes: number;
  seconds: number;
  keysPerSecond: number;
  /** Operator CPU (user + system, every process) during the burst, per key. */
  operatorCpuMsPerKey: number;
  /** Busiest operator process's CPU ÷ burst time: near 1 means that event loop was saturated. */
  busiestOperatorCpuShare: number;
  /** Machine CPU busy ÷ (cores × burst time), from /proc/stat: near 1 means the machine was the limit. */
  machineBusyShare: number;
  /** Keys each process claimed (shards) or reconciled (one process). */
  keysPerProcess: number[];
  /** Operator writes to the apiserver per key (the shards' claim is one more), from the apiserver's counters. */
  apiserverWritesPerKey: number;
  /** ApiKey passes per key, every process (the shards' claim pass is one more; echoes skipped at once count too). */
  passesPerKey: number;
  /** Passes the tenant budget deferred (a namespace with slow passes at its cap), per key: queueing, not work. */
  deferredPassesPerKey: number;
  /** Each process's RSS after the burst converged. */
  rssMiBPerProcess: number[];
  /** The operators' own counters during the burst, summed over the processes (--json; for profiling). */
  operatorCounters: Record<string, number>;
}

/** ShardBenchResult compares one operator with S shards on bursts of the same size in one run. */
export interface ShardBenchResult {
  keys: number;
  shards: number;
  concurrency: number;
  cores: number;
  baselineWritesPerSecond: number;
  single: BurstFigures;
  sharded: BurstFigures;
  /** sharded.keysPerSecond ÷ single.keysPerSecond. */
  speedup: number;
  /** What limited the sharded burst, judged from the CPU figures. */
  limit: string;
  loadAverage: number;
  date: string;
}

/** verdict says what limited the sharded burst, from the machine's and the busiest shard's CPU shares. */
export function verdict(single: BurstFigures, sharded: BurstFigures): string {
  if (sharded.machineBusyShare >= 0.85)
    return `the machine: its CPUs were ${Math.round(sharded.machineBusyShare * 100)} % busy during the sharded burst (control plane, emulator, benchmark and shards share them)`;
  if (sharded.busiestOperatorCpuShare >= 0.85)
    return `the operator: its busiest shard's event loop used ${Math.round(sharded.busiestOperatorCpuShare * 100)} % of a core`;
  return `neither CPU (machine ${Math.round(sharded.machineBusyShare * 100)} %, busiest shard ${Math.round(sharded.busiestOperatorCpuShare * 100)} %, one process ${Math.round(single.busiestOperatorCpuShare * 100)} %): the apiserver's and Rancher's latency`;
}

/** renderShardTable prints the comparison for a terminal. */
export function renderShardTable(r: ShardBenchResult): string {
  const row = (name: string, f: (b: BurstFigures) => string | number) =>
    `| ${name} | ${f(r.single)} | ${f(r.sharded)} |`;
  return [
    `Burst of ${r.keys} ApiKeys: one operator, then ${r.shards} shards (${r.cores} cores, concurrency ${r.concurrency}, baseline ${r.baselineWritesPerSecond} writes/s)`,
    '',
    `| figure | one operator | ${r.shards} shards |`,
    '|---|---|---|',
    row('keys/s', (b) => b.keysPerSecond),
    row('burst seconds', (b) => b.seconds),
    row('keys per process', (b) => b.keysPerProcess.join(' / ')),
    row('apiserver writes per key', (b) => b.apiserverWritesPerKey),
    row('ApiKey passes per key (all processes)', (b) => b.passesPerKey),
    row('passes deferred by the tenant budget per key', (b) => b.deferredPassesPerKey),
    row('operator CPU ms per key (all processes)', (b) => b.operatorCpuMsPerKey),
    row('busiest operator process: share of a core', (b) => b.busiestOperatorCpuShare),
    row('machine CPU busy share', (b) => b.machineBusyShare),
    row('RSS MiB per process after the burst', (b) => b.rssMiBPerProcess.join(' / ')),
    '',
    `speedup: ${r.speedup}; limit: ${r.limit}`,
    '',
  ].join('\n');
}
