import { readState } from '../control-plane/state.ts';
import { connect, kubectl } from '../control-plane/testing.ts';
import { apiKeyManifest } from '../e2e/support/manifests.ts';
import { eventually, getApiKey } from '../e2e/support/wait.ts';
import type { World } from '../e2e/support/world.ts';
import { waitForInvariants } from './checker.ts';
import type { Measured } from './results.ts';
import { apply, type FaultRun, readyOrExplain, setUpConnection, supervise } from './world-helpers.ts';

/** componentPid reads the pid the control plane's state file records for `name` (apiserver or etcd). */
export function componentPid(name: 'apiserver' | 'etcd'): number | undefined {
  return readState(connect().stateDir).processes[name]?.pid;
}

/**
 * duringControlPlaneFault applies `keys` ApiKeys (and deletes a Ready one) and, while the operator works
 * on them, runs `fault` (a restart of `component`, measured by its new pid); a supervisor restarts the
 * operator if it exits (lost lease), as the kubelet would. Then everything must converge (the deleted
 * ApiKey gone) and every invariant hold.
 */
export async function duringControlPlaneFault(
  world: World,
  run: FaultRun & { adopt(): void },
  ns: string,
  keys: number,
  component: 'apiserver' | 'etcd',
  fault: () => Promise<void>,
): Promise<Measured> {
  await setUpConnection(ns, world.emulator);
  await apply(apiKeyManifest(ns, 'doomed', {}));
  await readyOrExplain(world, run, ns, 'doomed');
  const sup = supervise(world, run);
  try {
    for (let i = 0; i < keys; i++) await apply(apiKeyManifest(ns, `cp-${i}`, { description: `key ${i}` }));
    const del = await kubectl(['delete', 'apikey', 'doomed', '-n', ns, '--wait=false']);
    if (del.code !== 0) throw new Error(`cannot delete doomed: ${del.stderr}`);
    const before = componentPid(component);
    await fault();
    const after = componentPid(component);
    if (before === undefined || after === before)
      throw new Error(`${component} was not restarted (pid ${before} before, ${after} after)`);
    for (let i = 0; i < keys; i++) await readyOrExplain(world, run, ns, `cp-${i}`, 120_000);
    const violations = await waitForInvariants(await run.invariantInput(), 90_000);
    return {
      violations,
      times: 1,
      note: `${component} pid ${before} → ${after}; operator restarted ${sup.restarts()} time(s) by the supervisor`,
    };
  } finally {
    sup.stop();
  }
}

type Loose = { metadata?: { annotations?: Record<string, string> }; spec?: { description?: string } };

/**
 * conflictStorm has `writers` concurrent clients each replace one Ready ApiKey's spec (description) and
 * an annotation `rounds` times with read-modify-write at the read resourceVersion, retrying on 409
 * Conflict, while the operator writes its status; it counts the 409s (the measured fault, which must
 * be > 0) and checks that the last description reaches Rancher on the same key with no duplicate.
 */
export async function conflictStorm(
  world: World,
  run: FaultRun,
  ns: string,
  writers: number,
  rounds: number,
): Promise<Measured> {
  await setUpConnection(ns, world.emulator);
  await apply(apiKeyManifest(ns, 'stormy', {}));
  await readyOrExplain(world, run, ns, 'stormy');
  const first = (await getApiKey(world.custom, ns, 'stormy'))?.status?.id;
  const ref = {
    group: 'rancher.keyops.dev',
    version: 'v1alpha1',
    namespace: ns,
    plural: 'apikeys',
    name: 'stormy',
  };
  let conflicts = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let r = 0; r < rounds; r++) {
        for (let attempt = 0; ; attempt++) {
          const cur = (await world.custom.getNamespacedCustomObject(ref)) as Loose;
          cur.metadata = {
            ...cur.metadata,
            annotations: { ...cur.metadata?.annotations, [`storm/w${w}`]: String(r) },
          };
          cur.spec = { ...cur.spec, description: `writer ${w} round ${r}` };
          try {
            await world.custom.replaceNamespacedCustomObject({ ...ref, body: cur });
            break;
          } catch (err) {
            if ((err as { code?: number }).code !== 409 || attempt > 200) throw err;
            conflicts++;
          }
        }
      }
    }),
  );
  if (conflicts === 0) throw new Error('the storm met no 409 Conflict: it proved nothing');
  const last = (await getApiKey(world.custom, ns, 'stormy'))?.spec?.description;
  await eventually(
    `the last description (${last}) in Rancher`,
    async () => {
      const keys = world.emulator.keys().filter((k) => k.description?.includes(`${ns}/stormy `));
      return keys.some((k) => k.state === 'active' && k.description?.startsWith(`${last} [`))
        ? true
        : undefined;
    },
    60_000,
  );
  await readyOrExplain(world, run, ns, 'stormy');
  const now = await getApiKey(world.custom, ns, 'stormy');
  if (first === undefined || now?.status?.id !== first)
    throw new Error(`the storm replaced the key: ${first} → ${now?.status?.id}`);
  return {
    violations: await waitForInvariants(await run.invariantInput(), 60_000),
    times: conflicts,
    note: `${conflicts} writes answered 409 Conflict and were retried`,
  };
}
