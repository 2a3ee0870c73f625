import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../e2e/support/world.ts';
import { formatViolations } from '../invariants/checker.ts';
import { churnWithKills } from '../invariants/churn.ts';
import { timed } from '../invariants/results.ts';
import { FAST_LEASE, type FaultRun, setUpConnection, trackRun } from '../invariants/world-helpers.ts';

// Long churn: many rounds over three namespaces, a kill -9 every few rounds, three seeds.

let world: World;
let run: FaultRun & { adopt(): void };

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 3, env: { ...FAST_LEASE, CONCURRENCY: '4' } });
  run = trackRun(world, since);
  for (const ns of world.namespaces) await setUpConnection(ns, world.emulator);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

const SEEDS = (process.env.FAULTS_SEEDS ?? '11,23,42').split(',').map(Number);

describe('kill -9 at random moments of a long churn', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: 80 rounds, 8 kills, every invariant holds once it settles`, async () => {
      const violations = await timed(
        { suite: 'churn', scenario: `long churn, seed ${seed}`, injected: 'SIGKILL of the operator' },
        () =>
          churnWithKills(world, run, {
            seed,
            size: 10,
            rounds: 80,
            kills: 8,
            maxDelayMs: 600,
            steadyWindowMs: 5_000,
            timeoutMs: 120_000,
          }),
      );
      expect(violations, formatViolations(violations)).toEqual([]);
    }, 400_000);
  }
});
