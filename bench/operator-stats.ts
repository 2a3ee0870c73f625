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
