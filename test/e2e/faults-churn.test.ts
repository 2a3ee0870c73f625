import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatViolations } from '../invariants/checker.ts';
import { churnWithKills } from '../invariants/churn.ts';
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
    const violations = await timed(
      { suite: 'churn', scenario: `short churn, seed ${SEED}`, injected: 'SIGKILL of the operator' },
      () =>
        churnWithKills(world, run, {
          seed: SEED,
          size: 6,
          rounds: 24,
          kills: 2,
          maxDelayMs: 400,
          steadyWindowMs: 4_000,
          timeoutMs: 90_000,
        }),
    );
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
