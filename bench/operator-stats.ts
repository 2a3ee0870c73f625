import { readFile } from 'node:fs/promises';
import type { OperatorProcess } from '../test/e2e/support/operator-process.ts';

const COUNTERS = [
  'controller_runtime_reconcile_total',
  'controller_runtime_reconcile_errors_total',
  'workqueue_adds_total',
  'workqueue_retries_total',
  'rest_client_requests_total',
  'rancher_apikey_operator_rancher_requests_total',
  'rancher_apikey_operator_informer_restarts_total',
  'rancher_apikey_operator_apikey_passes_skipped_total',
  'rancher_apikey_operator_tenant_budget_passes_total',
  'controller_runtime_reconcile_time_seconds_sum',
  'controller_runtime_reconcile_time_seconds_count',
  'rancher_apikey_operator_rancher_request_duration_seconds_sum',
  'rancher_apikey_operator_rancher_request_duration_seconds_count',
  'workqueue_queue_duration_seconds_sum',
  'workqueue_queue_duration_seconds_count',
  'process_cpu_seconds_total',
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
];

/** OperatorCounters maps `metric{labels}` to the value of the operator's own counters (for profiling). */
export type OperatorCounters = Record<string, number>;

/** readOperatorCounters scrapes the operator's /metrics and keeps the counters that explain its work. */
export async function readOperatorCounters(operator: OperatorProcess): Promise<OperatorCounters> {
  const text = await operator.metrics();
  const out: OperatorCounters = {};
  for (const line of text.split('\n')) {
    if (!COUNTERS.some((c) => line.startsWith(`${c}{`) || line.startsWith(`${c} `))) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return out;
}

/** diffCounters returns after − before, dropping zeros. */
export function diffCounters(before: OperatorCounters, after: OperatorCounters): OperatorCounters {
  const out: OperatorCounters = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** rssMiB reads the operator's resident set size from /proc (falling back to its process_resident_memory_bytes). */
export async function rssMiB(operator: OperatorProcess): Promise<number> {
  try {
    const status = await readFile(`/proc/${operator.pid}/status`, 'utf8');
    const kb = status.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux, or the process is gone: use the metric
  }
  const bytes = (await operator.metrics()).match(/^process_resident_memory_bytes (\S+)$/m)?.[1];
  if (!bytes) throw new Error('cannot read the operator RSS');
  return Number(bytes) / 2 ** 20;
}

/** heapUsedMiB reads the operator's V8 heap in use from its /metrics (nodejs_heap_size_used_bytes). */
export async function heapUsedMiB(operator: OperatorProcess): Promise<number> {
  const bytes = (await operator.metrics()).match(/^nodejs_heap_size_used_bytes (\S+)$/m)?.[1];
  return bytes ? Number(bytes) / 2 ** 20 : Number.NaN;
}

/** RawMemorySnapshot is what bench/memory-probe.mjs writes (bytes, except the /proc fields in KiB). */
interface RawMemorySnapshot {
  seq: number;
  gc: boolean;
  rssBeforeGc: number;
  heapUsedBeforeGc: number;
  memoryUsage: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  heap: { totalPhysical: number; malloced: number };
  spaces: Record<string, { committed: number; used: number }>;
  status: Record<string, number>;
  threads: number;
}

/**
 * MemoryBreakdown says where the operator's resident memory goes, in MiB, after a full GC (rssBeforeGc is the
 * RSS just before it): file-backed pages (the node binary and shared libraries), V8's heap (committed pages,
 * by space, and the live part), and the anonymous memory outside V8's heap (malloc arenas: ArrayBuffers,
 * TLS and HTTP buffers, external strings such as module sources, V8's own malloc, thread stacks).
 */
export interface MemoryBreakdown {
  rssBeforeGc: number;
  rss: number;
  rssFile: number;
  rssAnon: number;
  v8HeapCommitted: number;
  v8HeapUsed: number;
  v8Spaces: Record<string, number>;
  anonOutsideV8Heap: number;
  external: number;
  arrayBuffers: number;
  v8Malloced: number;
  threads: number;
}

const mib = (bytes: number, digits = 1): number =>
  Math.round((bytes / 2 ** 20) * 10 ** digits) / 10 ** digits;

function breakdown(s: RawMemorySnapshot): MemoryBreakdown {
  const anon = (s.status.RssAnon ?? Number.NaN) * 1024;
  const spaces: Record<string, number> = {};
  for (const [name, v] of Object.entries(s.spaces)) if (v.committed > 0) spaces[name] = mib(v.committed);
  return {
    rssBeforeGc: mib(s.rssBeforeGc),
    rss: mib(s.memoryUsage.rss),
    rssFile: mib((s.status.RssFile ?? Number.NaN) * 1024),
    rssAnon: mib(anon),
    v8HeapCommitted: mib(s.heap.totalPhysical),
    v8HeapUsed: mib(s.memoryUsage.heapUsed, 2),
    v8Spaces: spaces,
    anonOutsideV8Heap: mib(anon - s.heap.totalPhysical),
    external: mib(s.memoryUsage.external),
    arrayBuffers: mib(s.memoryUsage.arrayBuffers),
    v8Malloced: mib(s.heap.malloced),
    threads: s.threads,
  };
}

async function readSnapshot(file: string): Promise<RawMemorySnapshot | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RawMemorySnapshot;
  } catch {
    return undefined;
  }
}

/**
 * memoryBreakdown asks the operator's benchmark-only memory probe (SIGUSR2) for a full GC and a breakdown
 * of its memory, and waits until the probe has written it to `file`.
 */
export async function memoryBreakdown(operator: OperatorProcess, file: string): Promise<MemoryBreakdown> {
  const before = (await readSnapshot(file))?.seq ?? 0;
  process.kill(operator.pid, 'SIGUSR2');
  const deadline = Date.now() + 180_000; // a heap snapshot (--heap-snapshot-dir) takes a while
  while (Date.now() < deadline) {
    const s = await readSnapshot(file);
    if (s && s.seq > before) {
      if (!s.gc)
        throw new Error('the operator runs without --expose-gc: no forced GC before the heap sample');
      return breakdown(s);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the operator's memory probe wrote nothing to ${file} within 180 s`);
}
