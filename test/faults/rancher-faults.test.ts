import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../e2e/support/world.ts';
import { formatViolations } from '../invariants/checker.ts';
import {
  actionsUnderFault,
  createUnderFault,
  FAULTS,
  outage,
  outageNote,
} from '../invariants/rancher-scenarios.ts';
import { timed } from '../invariants/results.ts';
import { FAST_LEASE, type FaultRun, trackRun } from '../invariants/world-helpers.ts';

// Every fault kind on create (admin and user credentials) and on actions, and a 20 s outage.

/**
 * createTimes is how many creates fail: a hang once (each costs RANCHER_TIMEOUT), others twice; a lost
 * response once with admin credentials, whose committed key the operator adopts by its marker and the
 * pair it persisted (no second create to fail), twice with user credentials, which must create again.
 */
function createTimes(name: string, creds: 'admin' | 'user'): number {
  if (name === 'hang' || (name === 'lostResponse' && creds === 'admin')) return 1;
  return 2;
}

const SUITE = 'Rancher faults';
let world: World;
let run: FaultRun & { adopt(): void };
let next = 0;
const namespace = () => world.namespaces[next++] ?? '';

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 13, env: { ...FAST_LEASE, RANCHER_TIMEOUT: '3s' } });
  run = trackRun(world, since);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

describe('Rancher failures on every route: no orphan, no half-written Secret, convergence', () => {
  for (const [name, fault] of Object.entries(FAULTS)) {
    for (const creds of ['admin', 'user'] as const) {
      const times = createTimes(name, creds);
      it(`${name} on create (${creds} credentials, ${times}×): exactly one working key`, async () => {
        const ns = namespace();
        const v = await timed(
          {
            suite: SUITE,
            scenario: `create, ${creds} credentials`,
            injected: `${name} on POST /apikeys`,
          },
          () => createUnderFault(world, run, ns, creds, fault, times),
        );
        expect(v, formatViolations(v)).toEqual([]);
      });
    }
    const times = name === 'hang' ? 1 : 2;
    it(`${name} on actions (each step): deactivate, activate and retire converge`, async () => {
      const ns = namespace();
      const v = await timed(
        {
          suite: SUITE,
          scenario: 'actions (deactivate, activate, retire)',
          injected: `${name} on POST ?action=*`,
        },
        () => actionsUnderFault(world, run, ns, fault, times),
      );
      expect(v, formatViolations(v)).toEqual([]);
    });
  }

  it('a 20 s outage with 5 pending keys: backoff, at most 5 requests/s per object (1/s once backed off), convergence after', async () => {
    const ns = namespace();
    let result: Awaited<ReturnType<typeof outage>> | undefined;
    const v = await timed(
      { suite: SUITE, scenario: 'outage 20 s, 5 pending keys', injected: 'every request reset' },
      async () => {
        result = await outage(world, run, ns, 5, 20_000);
        return { violations: result.violations, times: result.refused, note: outageNote(result) };
      },
    );
    expect(v, formatViolations(v)).toEqual([]);
    const thirds = result?.thirds ?? [0, 0, 0];
    expect(thirds[2], outageNote(result)).toBeLessThan(thirds[0]);
    expect(result?.perObjectRate ?? 0, outageNote(result)).toBeLessThanOrEqual(5);
    expect(result?.lateRate ?? 0, outageNote(result)).toBeLessThanOrEqual(1);
  });
});
