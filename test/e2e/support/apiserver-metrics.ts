import { kubectl } from '../../control-plane/testing.ts';

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY', 'CREATE', 'UPDATE']);
const RESOURCES = new Set([
  'apikeys',
  'secrets',
  'events',
  'rancherconnections',
  'clusterrancherconnections',
]);

/**
 * apiserverWrites returns the apiserver's own count of mutating requests on the resources the
 * operator writes (ApiKeys and their status, Secrets, Events, connections), read from its /metrics.
 */
export async function apiserverWrites(): Promise<number> {
  const r = await kubectl(['get', '--raw', '/metrics']);
  if (r.code !== 0) throw new Error(`cannot read apiserver metrics: ${r.stderr}`);
  let total = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = line.match(/verb="([A-Z]+)"/)?.[1];
    const resource = line.match(/resource="([a-z]+)"/)?.[1];
    const dryRun = line.match(/dry_run="([^"]*)"/)?.[1];
    if (!verb || !resource || !WRITE_VERBS.has(verb) || !RESOURCES.has(resource) || dryRun) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
