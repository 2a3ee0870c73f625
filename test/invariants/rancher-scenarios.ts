import { kubectl } from '../control-plane/testing.ts';
import { apiKeyManifest } from '../e2e/support/manifests.ts';
import { eventually, getApiKey, waitForCondition } from '../e2e/support/wait.ts';
import type { World } from '../e2e/support/world.ts';
import type { FaultRule } from '../emulator/index.ts';
import { waitForInvariants } from './checker.ts';
import type { Violation } from './model.ts';
import type { Measured } from './results.ts';
import { apply, type Credentials, type FaultRun, readyOrExplain, setUpConnection } from './world-helpers.ts';

/** RancherFault is one emulator fault kind, as the scenarios inject it. */
export type RancherFault = Omit<FaultRule, 'route' | 'times'>;

/** FAULTS are the failures injected on single requests: a 503, a reset, a hang and a lost response. */
export const FAULTS: Record<string, RancherFault> = {
  '503': { kind: 'status', status: 503 },
  reset: { kind: 'reset' },
  hang: { kind: 'hang' },
  lostResponse: { kind: 'lostResponse' },
};

const ACTIONS = 'POST /apikeys/:id?action=*';

/**
 * injectFault sets a rule of `times` requests on `route` and returns a check that throws unless the
 * emulator lists that rule (by id) with hits === times, i.e. the operator really met every injected
 * failure; the check returns the hits and clears the rules.
 */
function injectFault(world: World, fault: RancherFault, route: string, times: number) {
  const id = world.emulator.setFault({ ...fault, route, times });
  return (step: string): number => {
    const rule = world.emulator.faults().find((r) => r.id === id);
    world.emulator.clearFaults();
    if (rule?.hits !== times)
      throw new Error(
        `${step}: fault ${id} (${fault.kind} on ${route}) was hit ${rule?.hits ?? 'no'} time(s), not ${times}: ${JSON.stringify(rule)}`,
      );
    return rule.hits;
  };
}

/**
 * createUnderFault makes the first `times` creates fail with `fault`, applies an ApiKey and waits until
 * it is Ready, then checks every invariant (one key, no orphan, a Secret that authenticates); the
 * measured count is the rule's hits (exactly `times`, or it throws).
 */
export async function createUnderFault(
  world: World,
  run: FaultRun,
  ns: string,
  creds: Credentials,
  fault: RancherFault,
  times: number,
): Promise<Measured> {
  await setUpConnection(ns, world.emulator, creds);
  const consumed = injectFault(world, fault, 'POST /apikeys', times);
  await apply(apiKeyManifest(ns, 'faulty', {}));
  await readyOrExplain(world, run, ns, 'faulty', 90_000);
  const hits = consumed('create');
  return { violations: await waitForInvariants(await run.invariantInput(), 60_000), times: hits };
}

async function patchState(ns: string, name: string, state: string): Promise<void> {
  const r = await kubectl([
    'patch',
    'apikey',
    name,
    '-n',
    ns,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { state } }),
  ]);
  if (r.code !== 0) throw new Error(`cannot patch ${ns}/${name}: ${r.stderr}`);
}

/**
 * actionsUnderFault makes Rancher actions fail at each step of a key's life (deactivate, activate, then
 * deactivate/remove/purge on delete), `times` per step, and checks the invariants after each converges;
 * each step's rule must be hit exactly its times. A lost response commits the action, so the operator
 * sees the new state and needs no retry: it is injected once per step (twice on delete, where two of
 * the three actions can each lose their answer).
 */
export async function actionsUnderFault(
  world: World,
  run: FaultRun,
  ns: string,
  fault: RancherFault,
  times: number,
): Promise<Measured> {
  const once = fault.kind === 'lostResponse' ? 1 : times;
  await setUpConnection(ns, world.emulator);
  await apply(apiKeyManifest(ns, 'acting', {}));
  await readyOrExplain(world, run, ns, 'acting');
  let hits = 0;
  let consumed = injectFault(world, fault, ACTIONS, once);
  await patchState(ns, 'acting', 'Inactive');
  await waitForCondition(world.custom, ns, 'acting', 'Ready', 'True', 'KeyInactive', 90_000);
  hits += consumed('deactivate');
  consumed = injectFault(world, fault, ACTIONS, once);
  await patchState(ns, 'acting', 'Active');
  await waitForCondition(world.custom, ns, 'acting', 'Ready', 'True', 'KeyActive', 90_000);
  hits += consumed('activate');
  consumed = injectFault(world, fault, ACTIONS, times);
  const r = await kubectl(['delete', 'apikey', 'acting', '-n', ns, '--wait=false']);
  if (r.code !== 0) throw new Error(r.stderr);
  await eventually(
    'ApiKey deleted',
    async () => ((await getApiKey(world.custom, ns, 'acting')) ? undefined : true),
    90_000,
  );
  hits += consumed('retire');
  return { violations: await waitForInvariants(await run.invariantInput(), 60_000), times: hits };
}

/** OutageResult is the Rancher traffic seen during an outage, in requests per window third. */
export interface OutageResult {
  violations: Violation[];
  /** Requests the outage rule refused (its hits). */
  refused: number;
  requests: number;
  thirds: [number, number, number];
  /** Requests during the outage by route, busiest first. */
  byRoute: [string, number][];
  /** ApiKeys and RancherConnections in the world's namespaces when Rancher went down (what the operator retries). */
  objects: number;
  /** Requests per object per second while down. */
  perObjectRate: number;
  /** Requests per object per second in the last third of the outage (after backoff grew). */
  lateRate: number;
}

async function countObjects(world: World): Promise<number> {
  let n = 0;
  for (const ns of world.namespaces) {
    const r = await kubectl(['get', 'apikeys,rancherconnections', '-n', ns, '-o', 'name']);
    n += r.stdout.split('\n').filter(Boolean).length;
  }
  return n;
}

/**
 * outage takes Rancher down (every request reset) for `downMs` while `keys` new ApiKeys wait to be
 * created and one existing key is switched to Inactive; it counts the requests the operator sends
 * meanwhile, then brings Rancher back and checks convergence and every invariant.
 */
export async function outage(
  world: World,
  run: FaultRun,
  ns: string,
  keys: number,
  downMs: number,
): Promise<OutageResult> {
  await setUpConnection(ns, world.emulator);
  await apply(apiKeyManifest(ns, 'before-outage', {}));
  await readyOrExplain(world, run, ns, 'before-outage');
  const rule = world.emulator.setFault({ kind: 'outage' });
  const before = world.emulator.requests();
  const objects = (await countObjects(world)) + keys;
  const start = before.total;
  for (let i = 0; i < keys; i++) await apply(apiKeyManifest(ns, `during-outage-${i}`, {}));
  await patchState(ns, 'before-outage', 'Inactive');
  const thirds: number[] = [];
  let last = start;
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, downMs / 3));
    const now = world.emulator.requests().total;
    thirds.push(now - last);
    last = now;
  }
  const during = world.emulator.requests();
  const refused = world.emulator.faults().find((r) => r.id === rule)?.hits ?? 0;
  world.emulator.clearFaults();
  if (refused === 0) throw new Error('the outage refused no request: the operator never met it');
  const byRoute = Object.entries(during.byRoute)
    .map(([route, n]): [string, number] => [route, n - (before.byRoute[route] ?? 0)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  for (let i = 0; i < keys; i++) await readyOrExplain(world, run, ns, `during-outage-${i}`, 120_000);
  await waitForCondition(world.custom, ns, 'before-outage', 'Ready', 'True', 'KeyInactive', 120_000);
  const violations = await waitForInvariants(await run.invariantInput(), 60_000);
  return {
    violations,
    refused,
    requests: last - start,
    thirds: [thirds[0] ?? 0, thirds[1] ?? 0, thirds[2] ?? 0],
    byRoute,
    objects,
    perObjectRate: (last - start) / objects / (downMs / 1000),
    lateRate: (thirds[2] ?? 0) / objects / (downMs / 3000),
  };
}

/** outageNote summarizes an outage's Rancher traffic for the reliability table and assertion messages. */
export function outageNote(r: OutageResult | undefined): string {
  if (!r) return 'no result';
  const routes = r.byRoute.map(([route, n]) => `${route} ${n}`).join(', ');
  const rate = r.perObjectRate.toFixed(2);
  const late = r.lateRate.toFixed(2);
  return `${r.refused} refused; ${r.requests} Rancher requests while down for ${r.objects} objects (${rate}/s per object, ${late}/s in the last third; per third ${r.thirds.join('/')}; ${routes})`;
}
