import { CustomObjectsApi } from '@kubernetes/client-node';
import { kubectl } from '../control-plane/testing.ts';
import { checkKeys } from './check-keys.ts';
import { checkLeaks, checkWritesOutside } from './check-leaks.ts';
import { checkSecretHistory, checkSecrets } from './check-secrets.ts';
import type { ApiKeyItem, InvariantInput, Snapshot, Violation } from './model.ts';
import { markerOwner } from './model.ts';

export type { InvariantInput, Violation } from './model.ts';
export { type RunRecorder, startRecorder } from './recorder.ts';

async function snapshot(input: InvariantInput): Promise<Snapshot> {
  const custom = input.kc.makeApiClient(CustomObjectsApi);
  const apiKeys: ApiKeyItem[] = [];
  for (const namespace of input.namespaces) {
    const list = (await custom.listNamespacedCustomObject({
      group: 'rancher.keyops.dev',
      version: 'v1alpha1',
      plural: 'apikeys',
      namespace,
    })) as { items?: ApiKeyItem[] };
    apiKeys.push(...(list.items ?? []));
  }
  const markerKeys: Snapshot['markerKeys'] = [];
  for (const k of input.emulator.keys()) {
    const owner = markerOwner(k.description);
    if (owner && input.namespaces.includes(owner.namespace)) markerKeys.push({ ...k, owner });
  }
  return { apiKeys, markerKeys, now: Date.now() };
}

function secretsOf(input: InvariantInput): Set<string> {
  const out = new Set(input.recorder?.secretValues() ?? []);
  for (const s of input.extraSecrets ?? []) out.add(s);
  out.add(input.emulator.admin.secretKey);
  out.add(input.emulator.user.secretKey);
  return out;
}

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY', 'CREATE', 'UPDATE']);
const RESOURCES = new Set([
  'apikeys',
  'secrets',
  'events',
  'rancherconnections',
  'clusterrancherconnections',
]);

/** apiserverWriteCounts reads the apiserver's mutating request counts by `verb resource/subresource`. */
async function apiserverWriteCounts(): Promise<Map<string, number>> {
  const r = await kubectl(['get', '--raw', '/metrics']);
  if (r.code !== 0) throw new Error(`cannot read apiserver metrics: ${r.stderr}`);
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string) => line.match(new RegExp(`[{,]${name}="([^"]*)"`))?.[1] ?? '';
    const verb = label('verb');
    const resource = label('resource');
    if (!WRITE_VERBS.has(verb) || !RESOURCES.has(resource) || label('dry_run')) continue;
    const key = `${verb} ${resource}${label('subresource') ? `/${label('subresource')}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

async function steadyWrites(input: InvariantInput, windowMs: number): Promise<Violation[]> {
  const before = await apiserverWriteCounts();
  const rancherBefore = input.emulator.requests();
  await new Promise((r) => setTimeout(r, windowMs));
  const afterKube = await apiserverWriteCounts();
  const changed = [...afterKube].filter(([k, n]) => n !== (before.get(k) ?? 0));
  const kube = changed.reduce((sum, [k, n]) => sum + n - (before.get(k) ?? 0), 0);
  const after = input.emulator.requests();
  const rancher = after.writes - rancherBefore.writes;
  const out: Violation[] = [];
  if (kube > 0)
    out.push({
      invariant: 7,
      message: `${kube} apiserver writes in a ${windowMs} ms steady window (${changed.map(([k]) => k).join(', ')})`,
    });
  if (rancher > 0) {
    const routes = Object.entries(after.byRoute)
      .filter(([route, n]) => !route.startsWith('GET') && n !== (rancherBefore.byRoute[route] ?? 0))
      .map(([route]) => route);
    out.push({
      invariant: 7,
      message: `${rancher} Rancher writes in a ${windowMs} ms steady window (${routes.join(', ')})`,
    });
  }
  return out;
}

/**
 * checkInvariants returns every violation of DESIGN.md's seven invariants it can see right now in the
 * run's namespaces (empty = all hold). Call it once the run should have converged; with
 * `steadyWindowMs` it also waits that long and counts writes (invariant 7).
 */
export async function checkInvariants(input: InvariantInput): Promise<Violation[]> {
  const snap = await snapshot(input);
  const out = [
    ...checkKeys(input, snap),
    ...(await checkSecrets(input, snap)),
    ...checkSecretHistory(input),
    ...(await checkLeaks(input, secretsOf(input))),
    ...(await checkWritesOutside(input)),
  ];
  if (input.steadyWindowMs !== undefined && out.length === 0)
    out.push(...(await steadyWrites(input, input.steadyWindowMs)));
  return out;
}

/**
 * waitForInvariants polls checkInvariants (without the steady window) until no violation is left or
 * `timeoutMs` passes, then runs the steady-state window once; it returns the last violations. Since
 * checkInvariants requires convergence (no deletion pending, every ApiKey answered at its generation),
 * the first clean pass is a converged world, not merely a quiet one.
 */
export async function waitForInvariants(
  input: InvariantInput | (() => InvariantInput | Promise<InvariantInput>),
  timeoutMs = 60_000,
): Promise<Violation[]> {
  const get = typeof input === 'function' ? input : () => input;
  const deadline = Date.now() + timeoutMs;
  let last: Violation[] = [];
  while (Date.now() < deadline) {
    last = await checkInvariants({ ...(await get()), steadyWindowMs: undefined });
    if (last.length === 0) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const { steadyWindowMs, settleMs } = await get();
  if (last.length > 0 || steadyWindowMs === undefined) return last;
  await new Promise((r) => setTimeout(r, settleMs ?? 0));
  return checkInvariants(await get());
}

/** formatViolations renders violations one per line for an assertion message. */
export function formatViolations(violations: Violation[]): string {
  return violations.map((v) => `invariant ${v.invariant}: ${v.message}`).join('\n');
}
