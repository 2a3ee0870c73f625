import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { startWorld, type World } from './support/world.ts';

// Short version of test/faults/rancher-faults.test.ts (run by npm test).

const SUITE = 'Rancher faults';
let world: World;
let run: FaultRun & { adopt(): void };
let next = 0;
const namespace = () => world.namespaces[next++] ?? '';

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 4, env: { ...FAST_LEASE, RANCHER_TIMEOUT: '3s' } });
  run = trackRun(world, since);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

describe('Rancher failures: no orphan, no half-written Secret, convergence after recovery', () => {
  for (const creds of ['admin', 'user'] as const) {
    it(`a lost create response (${creds} credentials) leaves exactly one working key`, async () => {
      const ns = namespace();
      const v = await timed(
        {
          suite: SUITE,
          scenario: `create, ${creds} credentials`,
          injected: 'lostResponse on POST /apikeys',
        },
        () => createUnderFault(world, run, ns, creds, FAULTS.lostResponse ?? { kind: 'reset' }, 1),
      );
      expect(v, formatViolations(v)).toEqual([]);
    });
  }

  it('503 on two actions of every step (deactivate, activate, retire) still converges', async () => {
    const ns = namespace();
    const v = await timed({ suite: SUITE, scenario: 'actions', injected: '503 on POST ?action=*' }, () =>
      actionsUnderFault(world, run, ns, FAULTS['503'] ?? { kind: 'reset' }, 2),
    );
    expect(v, formatViolations(v)).toEqual([]);
  });

  it('a 12 s outage: the operator backs off (fewer requests late than early), at most 5 requests/s per object (1/s once backed off), converges after', async () => {
    const ns = namespace();
    let result: Awaited<ReturnType<typeof outage>> | undefined;
    const v = await timed(
      { suite: SUITE, scenario: 'outage 12 s, 3 pending keys', injected: 'every request reset' },
      async () => {
        result = await outage(world, run, ns, 3, 12_000);
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
