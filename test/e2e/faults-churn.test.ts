import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations, waitForInvariants } from '../invariants/checker.ts';
import { churn, killSchedule, seededRandom } from '../invariants/churn.ts';
import { timed } from '../invariants/results.ts';
import { FAST_LEASE, type FaultRun, setUpConnection, trackRun } from '../invariants/world-helpers.ts';
import { startWorld, type World } from './support/world.ts';

// Short version of test/faults/churn.test.ts (run by npm test): two kill -9 during a churn.

const SEED = Number(process.env.FAULTS_SEED ?? 7);
let world: World;
let run: FaultRun & { adopt(): void };

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 2, env: FAST_LEASE });
  run = trackRun(world, since);
  for (const ns of world.namespaces) await setUpConnection(ns, world.emulator);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

describe('kill -9 during a churn of creates, updates and deletes', () => {
  it(`two kills in 24 rounds (seed ${SEED}): every invariant holds after a restart`, async () => {
    const random = seededRandom(SEED);
    const kills = killSchedule(24, 2, random);
    const violations = await timed(
      {
        suite: 'churn',
        scenario: `short churn, seed ${SEED}`,
        injected: 'SIGKILL of the operator',
        times: kills.size,
      },
      async () => {
        await churn({
          namespaces: world.namespaces,
          size: 6,
          rounds: 24,
          maxDelayMs: 400,
          random,
          onRound: async (round) => {
            if (!kills.has(round)) return;
            await world.restartOperator({ crash: true });
            run.adopt();
          },
        });
        return waitForInvariants(await run.invariantInput({ steadyWindowMs: 4_000 }), 90_000);
      },
    );
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
