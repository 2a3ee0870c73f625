import { type BenchCluster, runKubectl } from './cluster.ts';

const WRITE_VERBS = new Set([
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'DELETECOLLECTION',
  'APPLY',
  'CREATE',
  'UPDATE',
]);
/** OPERATOR_RESOURCES are the resources the operator may write; leases (leader election) are left out on purpose. */
const OPERATOR_RESOURCES = new Set([
  'apikeys',
  'secrets',
  'events',
  'rancherconnections',
  'clusterrancherconnections',
]);

/** WriteCounts maps `VERB resource[/subresource]` to the apiserver's count of completed mutating requests. */
export type WriteCounts = Record<string, number>;

function label(line: string, name: string): string {
  return line.match(new RegExp(`[{,]${name}="([^"]*)"`))?.[1] ?? '';
}

/** parseWriteCounts extracts the mutating requests on operator resources from apiserver `/metrics` text. */
export function parseWriteCounts(metrics: string): WriteCounts {
  const counts: WriteCounts = {};
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = label(line, 'verb');
    const resource = label(line, 'resource');
    if (!WRITE_VERBS.has(verb) || !OPERATOR_RESOURCES.has(resource) || label(line, 'dry_run')) continue;
    const sub = label(line, 'subresource');
    const key = `${verb} ${resource}${sub ? `/${sub}` : ''}`;
    counts[key] = (counts[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** readWriteCounts reads the apiserver's own request counters (as admin, through kubectl). */
export async function readWriteCounts(cluster: BenchCluster): Promise<WriteCounts> {
  const r = await runKubectl(cluster, ['get', '--raw', '/metrics']);
  if (r.code !== 0) throw new Error(`cannot read apiserver metrics: ${r.stderr}`);
  return parseWriteCounts(r.stdout);
}

/** diffWrites returns after − before per key, minus the benchmark's own writes, dropping zeros. */
export function diffWrites(before: WriteCounts, after: WriteCounts, own: WriteCounts = {}): WriteCounts {
  const out: WriteCounts = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(own)])) {
    const n = (after[key] ?? 0) - (before[key] ?? 0) - (own[key] ?? 0);
    if (n !== 0) out[key] = n;
  }
  return out;
}

/** totalWrites sums a WriteCounts. */
export function totalWrites(counts: WriteCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
