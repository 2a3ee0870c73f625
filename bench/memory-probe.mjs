// Benchmark-only preload (`node --expose-gc --import bench/memory-probe.mjs`), never part of the operator or
// its image: on SIGUSR2 it runs a full garbage collection and writes where the process's memory goes to
// $BENCH_MEMORY_FILE. Plain JavaScript so that loading it does not start Node's TypeScript stripper.
// Numbers only: sizes from process.memoryUsage(), V8's heap spaces and /proc/self (no object contents).
// With $BENCH_HEAP_SNAPSHOT_DIR it also writes a heap snapshot after the GC: that file holds the process's
// memory, key secrets included, so it stays on the machine that ran the benchmark (read it with
// bench/profile-summary.ts, which prints only object kinds, counts and sizes).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';

const file = process.env.BENCH_MEMORY_FILE;
const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
let seq = 0;

/** kib reads `Name: N kB` fields of a /proc file into a map of KiB. */
function kib(path) {
  const out = {};
  try {
    for (const m of readFileSync(path, 'utf8').matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]);
  } catch {
    // not Linux
  }
  return out;
}

function threads() {
  try {
    return Number(readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)/m)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

function snapshot() {
  const before = process.memoryUsage();
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    spaces[s.space_name] = { committed: s.physical_space_size, used: s.space_used_size };
  }
  return {
    seq,
    gc: typeof globalThis.gc === 'function',
    rssBeforeGc: before.rss,
    heapUsedBeforeGc: before.heapUsed,
    memoryUsage: m,
    heap: {
      totalPhysical: heap.total_physical_size,
      totalHeapSize: heap.total_heap_size,
      used: heap.used_heap_size,
      malloced: heap.malloced_memory,
      peakMalloced: heap.peak_malloced_memory,
      external: heap.external_memory,
    },
    spaces,
    smapsRollup: kib('/proc/self/smaps_rollup'),
    status: kib('/proc/self/status'),
    threads: threads(),
  };
}

if (file) {
  process.on('SIGUSR2', () => {
    seq++;
    const tmp = `${file}.tmp`;
    const s = snapshot();
    if (snapshotDir) v8.writeHeapSnapshot(join(snapshotDir, `operator-${process.pid}-${seq}.heapsnapshot`));
    writeFileSync(tmp, JSON.stringify(s));
    renameSync(tmp, file);
  });
}
