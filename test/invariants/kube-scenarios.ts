import { kubectl } from '../control-plane/testing.ts';
import { apiKeyManifest } from '../e2e/support/manifests.ts';
import { eventually } from '../e2e/support/wait.ts';
import type { World } from '../e2e/support/world.ts';
import { waitForInvariants } from './checker.ts';
import type { Violation } from './model.ts';
import { apply, type FaultRun, readyOrExplain, setUpConnection, supervise } from './world-helpers.ts';

/**
 * duringControlPlaneFault applies `keys` ApiKeys (and deletes a Ready one) and, while the operator works
 * on them, runs `fault` (an apiserver or etcd restart); a supervisor restarts the operator if it exits
 * (lost lease), as the kubelet would. Then everything must converge and every invariant hold.
 */
export async function duringControlPlaneFault(
  world: World,
  run: FaultRun & { adopt(): void },
  ns: string,
  keys: number,
  fault: () => Promise<void>,
): Promise<{ violations: Violation[]; note: string }> {
  await setUpConnection(ns, world.emulator);
  await apply(apiKeyManifest(ns, 'doomed', {}));
  await readyOrExplain(world, run, ns, 'doomed');
  const sup = supervise(world, run);
  try {
    for (let i = 0; i < keys; i++) await apply(apiKeyManifest(ns, `cp-${i}`, { description: `key ${i}` }));
    await kubectl(['delete', 'apikey', 'doomed', '-n', ns, '--wait=false']);
    await fault();
    for (let i = 0; i < keys; i++) await readyOrExplain(world, run, ns, `cp-${i}`, 120_000);
    const violations = await waitForInvariants(await run.invariantInput(), 90_000);
    return { violations, note: `operator restarted ${sup.restarts()} time(s) by the supervisor` };
  } finally {
    sup.stop();
  }
}

/**
 * conflictStorm sends `writers` concurrent spec updates (description) to one Ready ApiKey, `rounds`
 * times each, and checks that the last description reaches Rancher on the same key with no duplicate.
 */
export async function conflictStorm(
  world: World,
  run: FaultRun,
  ns: string,
  writers: number,
  rounds: number,
): Promise<Violation[]> {
  await setUpConnection(ns, world.emulator);
  await apply(apiKeyManifest(ns, 'stormy', {}));
  await readyOrExplain(world, run, ns, 'stormy');
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let r = 0; r < rounds; r++) {
        const description = `writer ${w} round ${r}`;
        const patch = JSON.stringify({
          metadata: { annotations: { [`storm/w${w}`]: String(r) } },
          spec: { description },
        });
        await kubectl(['patch', 'apikey', 'stormy', '-n', ns, '--type=merge', '-p', patch]);
      }
    }),
  );
  const last = (await kubectl(['get', 'apikey', 'stormy', '-n', ns, '-o', 'jsonpath={.spec.description}']))
    .stdout;
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
  return waitForInvariants(await run.invariantInput(), 60_000);
}
