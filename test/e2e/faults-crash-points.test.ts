import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { formatViolations, waitForInvariants } from '../invariants/checker.ts';
import { timed } from '../invariants/results.ts';
import {
  apply,
  CRASH_ENV,
  type Credentials,
  FAST_LEASE,
  type FaultRun,
  readyOrExplain,
  setUpConnection,
  trackRun,
  waitForExit,
} from '../invariants/world-helpers.ts';
import { apiKeyManifest } from './support/manifests.ts';
import { startWorld, type World } from './support/world.ts';

// Each crash point of the operator (RANCHER_APIKEY_OPERATOR_CRASH_AT) is hit for real: the process
// SIGKILLs itself there, a fresh process without the hook takes over, and every invariant must hold.

const SUITE = 'crash points';
let world: World;
let run: FaultRun & { adopt(): void };
let next = 0;

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 9, env: FAST_LEASE });
  run = trackRun(world, since);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

function namespace(): string {
  const ns = world.namespaces[next++];
  if (!ns) throw new Error('out of namespaces');
  return ns;
}

async function restartWith(env: Record<string, string>): Promise<void> {
  await world.restartOperator({ env });
  run.adopt();
}

/**
 * crashThenRecover arms `point` in a fresh process, runs `trigger` and waits for that process to exit; it
 * counts as a crash only if that very process printed the crash hook's line for `point` and died of
 * SIGKILL (an older process's line, or any other exit, does not count: another exit throws). Then it
 * starts a clean process and returns whether the crash happened.
 */
async function crashThenRecover(
  point: string,
  trigger: () => Promise<void>,
  expectCrash = true,
): Promise<boolean> {
  await restartWith({ [CRASH_ENV]: point });
  const armed = world.operator;
  await trigger();
  const exited = await waitForExit(world, expectCrash ? 30_000 : 8_000);
  const line = armed.lines.includes(`crash hook: exiting at ${point}`);
  const crashed = exited && line && armed.signal() === 'SIGKILL';
  if (exited && !crashed)
    throw new Error(
      `the armed operator exited without crashing at ${point} (signal ${armed.signal()}, crash line ${line}):\n${armed.lines.slice(-15).join('\n')}`,
    );
  if (!exited && line) throw new Error(`the operator printed the crash line for ${point} but did not exit`);
  await world.restartOperator({ crash: true });
  run.adopt();
  return crashed;
}

const CREATE_POINTS = [
  'after-persist-before-create',
  'after-create-before-secret',
  'after-secret-before-status',
];

describe('kill -9 at each crash point, then a clean restart: the invariants hold', () => {
  for (const point of CREATE_POINTS) {
    for (const creds of ['admin', 'user'] as Credentials[]) {
      it(`${point} with ${creds} credentials: one working key, no orphan, no lost secret`, async () => {
        const ns = namespace();
        await setUpConnection(ns, world.emulator, creds);
        // With user credentials the operator cannot supply values, so it never persists a pair before create.
        const reachable = !(point === 'after-persist-before-create' && creds === 'user');
        let crashed = false;
        const violations = await timed(
          { suite: SUITE, scenario: `${point} (${creds} credentials)`, injected: `SIGKILL at ${point}` },
          async () => {
            crashed = await crashThenRecover(point, () => apply(apiKeyManifest(ns, 'crashy', {})), reachable);
            await readyOrExplain(world, run, ns, 'crashy');
            const violations = await waitForInvariants(await run.invariantInput(), 60_000);
            const note = crashed
              ? 'the armed process printed the crash line and died of SIGKILL'
              : 'point not reached (expected: user credentials cannot supply values)';
            return { violations, times: crashed ? 1 : 0, note };
          },
        );
        expect(violations, formatViolations(violations)).toEqual([]);
        expect(crashed).toBe(reachable);
      });
    }
  }

  for (const [point, policy] of [
    ['after-remove-before-purge', 'Purge'],
    ['after-purge-before-finalizer', 'Purge'],
    ['after-remove-before-purge', 'Remove'],
  ] as const) {
    it(`${point} while deleting (deletionPolicy ${policy}): the ApiKey goes, its key ends retired, no finalizer is stuck`, async () => {
      const ns = namespace();
      await setUpConnection(ns, world.emulator);
      const name = `del-${point.split('-')[1]}-${policy.toLowerCase()}`;
      const violations = await timed(
        { suite: SUITE, scenario: `${point} (delete, ${policy})`, injected: `SIGKILL at ${point}` },
        async () => {
          await apply(apiKeyManifest(ns, name, { deletionPolicy: policy }));
          await readyOrExplain(world, run, ns, name);
          const crashed = await crashThenRecover(point, async () => {
            const r = await kubectl(['delete', 'apikey', name, '-n', ns, '--wait=false']);
            expect(r.code, r.stderr).toBe(0);
          });
          expect(crashed).toBe(true);
          const violations = await waitForInvariants(await run.invariantInput(), 60_000);
          return {
            violations,
            times: 1,
            note: 'the armed process printed the crash line and died of SIGKILL',
          };
        },
      );
      expect(violations, formatViolations(violations)).toEqual([]);
    });
  }

  it('after all crashes: steady state writes nothing to the apiserver or Rancher', async () => {
    const violations = await waitForInvariants(await run.invariantInput({ steadyWindowMs: 5_000 }), 30_000);
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
