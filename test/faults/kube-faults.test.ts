import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, restartApiserver, restartEtcd } from '../control-plane/testing.ts';
import { apiKeyManifest } from '../e2e/support/manifests.ts';
import { startOperatorProcess } from '../e2e/support/operator-process.ts';
import { OPERATOR_NAMESPACE, startWorld, type World } from '../e2e/support/world.ts';
import { formatViolations, waitForInvariants } from '../invariants/checker.ts';
import { conflictStorm, duringControlPlaneFault } from '../invariants/kube-scenarios.ts';
import { timed } from '../invariants/results.ts';
import {
  apply,
  FAST_LEASE,
  type FaultRun,
  readyOrExplain,
  setUpConnection,
  trackRun,
} from '../invariants/world-helpers.ts';

// Kubernetes-side faults: apiserver and etcd restarts mid-run (both relist every informer, which is
// also how a 410 Gone is recovered), a conflict storm, and leader failover between two replicas.
// Not covered: a watch that stalls while the apiserver stays up (needs a proxy between the operator
// and the apiserver; the informer's stall watchdog is unit-tested in src/kube/informer.test.ts).

const SUITE = 'Kubernetes faults';
let world: World;
let run: FaultRun & { adopt(lines?: string[]): void };
let next = 0;
const namespace = () => world.namespaces[next++] ?? '';

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 7, env: { RANCHER_TIMEOUT: '3s' } });
  run = trackRun(world, since);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

describe('control plane faults mid-run', () => {
  for (const [name, component, fault] of [
    ['apiserver SIGTERM restart, 3 s down', 'apiserver', () => restartApiserver({ downMs: 3_000 })],
    [
      'apiserver SIGKILL, 12 s down (longer than the renew deadline)',
      'apiserver',
      () => restartApiserver({ downMs: 12_000, crash: true }),
    ],
    ['etcd SIGKILL, 5 s down', 'etcd', () => restartEtcd({ downMs: 5_000, crash: true })],
  ] as const) {
    it(`${name}: creates and a deletion in flight converge, every invariant holds`, async () => {
      const ns = namespace();
      const v = await timed(
        { suite: SUITE, scenario: 'create ×4 and delete ×1 in flight', injected: name },
        () => duringControlPlaneFault(world, run, ns, 4, component, fault),
      );
      expect(v, formatViolations(v)).toEqual([]);
    });
  }

  it('conflict storm: 8 writers × 5 concurrent spec updates of one ApiKey end on its last spec, one key', async () => {
    const ns = namespace();
    const v = await timed(
      {
        suite: SUITE,
        scenario: 'conflict storm on one ApiKey',
        injected: '409 Conflict on read-modify-write spec updates',
      },
      () => conflictStorm(world, run, ns, 8, 5),
    );
    expect(v, formatViolations(v)).toEqual([]);
  });
});

async function leaseHolder(id: string): Promise<string> {
  const r = await kubectl([
    'get',
    'lease',
    id,
    '-n',
    OPERATOR_NAMESPACE,
    '-o',
    'jsonpath={.spec.holderIdentity}',
  ]);
  return r.stdout;
}

describe('leader failover with two replicas', () => {
  it('the standby takes over after the leader is killed; no duplicate key, every invariant holds', async () => {
    const ns = namespace();
    const v = await timed(
      { suite: SUITE, scenario: 'leader failover (2 replicas)', injected: 'SIGKILL of the leader' },
      async () => {
        await world.restartOperator({ env: FAST_LEASE });
        run.adopt();
        const standby = startOperatorProcess({
          kubeconfigPath: world.operatorKubeconfig,
          env: { ...world.operatorEnv, ...FAST_LEASE, POD_NAME: `standby-${randomBytes(3).toString('hex')}` },
        });
        run.adopt(standby.lines);
        try {
          await setUpConnection(ns, world.emulator);
          for (let i = 0; i < 3; i++) await apply(apiKeyManifest(ns, `ha-${i}`, {}));
          for (let i = 0; i < 3; i++) await readyOrExplain(world, run, ns, `ha-${i}`);
          const leader = await leaseHolder(world.operatorEnv.LEADER_ELECTION_ID ?? '');
          const killed = leader.startsWith('standby') ? standby : world.operator;
          const killLeader = killed.kill();
          for (let i = 3; i < 6; i++) await apply(apiKeyManifest(ns, `ha-${i}`, {}));
          await killLeader;
          for (let i = 0; i < 6; i++) await readyOrExplain(world, run, ns, `ha-${i}`, 60_000);
          const after = await leaseHolder(world.operatorEnv.LEADER_ELECTION_ID ?? '');
          if (after === leader) throw new Error(`lease still held by the killed leader ${leader}`);
          if (killed.signal() !== 'SIGKILL')
            throw new Error(`the leader died of ${killed.signal()}, not SIGKILL`);
          return {
            violations: await waitForInvariants(await run.invariantInput(), 60_000),
            times: 1,
            note: `leader ${leader} → ${after}`,
          };
        } finally {
          await standby.stop();
          await world.restartOperator({ crash: true });
          run.adopt();
        }
      },
    );
    expect(v, formatViolations(v)).toEqual([]);
  });
});
