import type {
  V1DaemonSetStatus,
  V1Deployment,
  V1PodSpec,
  V1StatefulSetStatus,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ApiKeyStatus } from '../../../api/apikey.ts';
import type { Workload, WorkloadStore } from '../../../kube/workloads.ts';
import type { KeyView, Observation } from '../model.ts';
import { keyView, observation } from '../plan/observation.test-support.ts';
import { plan } from '../plan/plan.ts';
import type { ConsumersView, WorkloadView } from './model.ts';
import { observeConsumers, restartPending } from './observe-consumers.ts';
import { planConsumers, ROLLOUT_POLL_MS } from './plan-consumers.ts';
import { referencesSecret, rolledOut } from './workload-status.ts';

const NOW = '2026-11-26T00:00:00Z';
const LATER = '2026-11-26T01:00:00Z';
const NEW = 'NEWNEWNEWNEWNEWNEWNE';
const key = (over: Partial<KeyView> = {}) => keyView({ id: '1c20', publicValue: NEW, ...over });
const old = key({ id: '1c10', publicValue: 'OLDOLDOLDOLDOLDOLDOL' });
const rotatedStatus: ApiKeyStatus = {
  id: '1c20',
  publicValue: NEW,
  retiring: [{ id: '1c10', publicValue: old.publicValue, reason: 'Rotated', notBefore: LATER }],
};
const restartSpec = { rotation: { restartConsumers: {} } };
function obs(consumers: ConsumersView): Observation {
  const o = observation(restartSpec, rotatedStatus, key(), { consumers });
  return { ...o, rancher: { ...o.rancher, marked: [key(), old], retiring: [old] } as Observation['rancher'] };
}
const apiKey = (spec: object = restartSpec, status: ApiKeyStatus | undefined = rotatedStatus) =>
  observation(spec, status).apiKey;
const web = (over: Partial<WorkloadView> = {}): WorkloadView => ({
  kind: 'Deployment',
  name: 'web',
  restartedFor: undefined,
  rolledOut: true,
  ...over,
});
const observed = (...workloads: WorkloadView[]): ConsumersView => ({ state: 'observed', workloads });

describe('consumers that follow a rotation: plan', () => {
  it('once the Secret holds the new key, every consumer not yet restarted for it is restarted', () => {
    const p = plan(obs(observed(web(), web({ kind: 'StatefulSet', name: 'db', restartedFor: 'OLD' }))));
    expect(p.actions).toEqual([
      {
        type: 'RestartConsumers',
        workloads: [
          { kind: 'Deployment', name: 'web' },
          { kind: 'StatefulSet', name: 'db' },
        ],
        publicValue: NEW,
        id: '1c20',
      },
    ]);
    expect(p.status?.conditions.find((c) => c.type === 'Reconciling')).toMatchObject({
      reason: 'WaitingForRollout',
    });
    expect(p.requeueAfterMs).toBe(ROLLOUT_POLL_MS);
  });

  it('the old key stays active while a restarted consumer is still rolling out', () => {
    const p = plan(obs(observed(web({ restartedFor: NEW, rolledOut: false }))));
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions.find((c) => c.type === 'Reconciling')?.message).toMatch(
      /waiting for Deployment\/web to roll out onto Rancher key 1c20; key 1c10 stays active until they have, at the latest until 2026-11-26T01:00:00Z/,
    );
  });

  it('when every restarted consumer has rolled out, the old key retires before its overlap ends', () => {
    const p = plan(obs(observed(web({ restartedFor: NEW }))));
    expect(p.actions).toEqual([{ type: 'DeactivateKey', id: '1c10' }]);
  });

  it('no consumer found: nothing is restarted and the overlap decides (never an early retirement)', () => {
    const p = plan(obs(observed()));
    expect(p.actions).toEqual([]);
    expect(p.events).toContainEqual(expect.objectContaining({ reason: 'NoConsumersFound' }));
  });

  it('an operator without consumer restarts warns and keeps the old key for the overlap', () => {
    const p = plan(obs({ state: 'disabled' }));
    expect(p.actions).toEqual([]);
    expect(p.events).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'ConsumerRestartsDisabled' }),
    );
  });

  it('before the Secret holds the recorded new key (a promotion not yet written) nothing is restarted', () => {
    const o = obs(observed(web()));
    o.rancher = { ...o.rancher, bySecret: old } as Observation['rancher'];
    o.secret = { state: 'owned', publicValue: old.publicValue, intact: true, upToDate: true };
    expect(planConsumers(o, old).action).toBeUndefined();
  });
});

describe('consumers that follow a rotation: observe', () => {
  const pod = (over: Partial<V1PodSpec>): V1PodSpec => ({ containers: [{ name: 'c' }], ...over });
  const deployment = (name: string, spec: V1PodSpec, status: V1Deployment['status'] = {}): Workload => ({
    kind: 'Deployment',
    object: { metadata: { name, generation: 2 }, spec: { selector: {}, template: { spec } }, status },
  });

  it('finds the Secret in env valueFrom, envFrom, secret and projected volumes, in any container', () => {
    const envRef = { name: 'x', valueFrom: { secretKeyRef: { name: 'ci', key: 'secretValue' } } };
    expect(referencesSecret(pod({ containers: [{ name: 'c', env: [envRef] }] }), 'ci')).toBe(true);
    expect(
      referencesSecret(
        pod({ initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 'ci' } }] }] }),
        'ci',
      ),
    ).toBe(true);
    expect(referencesSecret(pod({ volumes: [{ name: 'v', secret: { secretName: 'ci' } }] }), 'ci')).toBe(
      true,
    );
    expect(
      referencesSecret(
        pod({ volumes: [{ name: 'v', projected: { sources: [{ secret: { name: 'ci' } }] } }] }),
        'ci',
      ),
    ).toBe(true);
    expect(referencesSecret(pod({ volumes: [{ name: 'v', secret: { secretName: 'other' } }] }), 'ci')).toBe(
      false,
    );
  });

  it('rolled out follows kubectl rollout status: latest generation observed, all replicas updated and available', () => {
    const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
    const spec = pod({});
    const d = (status: V1Deployment['status']) => {
      const w = deployment('web', spec, status);
      if (w.kind === 'Deployment' && w.object.spec) w.object.spec.replicas = 2;
      return w;
    };
    expect(rolledOut(d(done))).toBe(true);
    expect(rolledOut(d({ ...done, observedGeneration: 1 }))).toBe(false);
    expect(rolledOut(d({ ...done, updatedReplicas: 1 }))).toBe(false);
    expect(rolledOut(d({ ...done, replicas: 3 }))).toBe(false); // an old replica is left
    expect(rolledOut(d({ ...done, availableReplicas: 1 }))).toBe(false);
  });

  it('StatefulSets and DaemonSets follow their own status; OnDelete never rolls out by itself', () => {
    const meta = { name: 'x', generation: 3 };
    const sts = (status: Partial<V1StatefulSetStatus>, strategy?: 'OnDelete'): Workload => ({
      kind: 'StatefulSet',
      object: {
        metadata: meta,
        spec: {
          serviceName: 'x',
          replicas: 2,
          selector: {},
          template: {},
          ...(strategy ? { updateStrategy: { type: strategy } } : {}),
        },
        status: { replicas: 2, ...status },
      },
    });
    const done = {
      observedGeneration: 3,
      updatedReplicas: 2,
      readyReplicas: 2,
      currentRevision: 'b',
      updateRevision: 'b',
    };
    expect(rolledOut(sts(done))).toBe(true);
    expect(rolledOut(sts({ ...done, currentRevision: 'a' }))).toBe(false);
    expect(rolledOut(sts({ ...done, readyReplicas: 1 }))).toBe(false);
    expect(rolledOut(sts(done, 'OnDelete'))).toBe(false);
    const ds = (
      over: Partial<Pick<V1DaemonSetStatus, 'observedGeneration' | 'updatedNumberScheduled'>>,
    ): Workload => ({
      kind: 'DaemonSet',
      object: {
        metadata: meta,
        spec: { selector: {}, template: {} },
        status: {
          currentNumberScheduled: 3,
          numberMisscheduled: 0,
          numberReady: 3,
          desiredNumberScheduled: 3,
          numberAvailable: 3,
          observedGeneration: over.observedGeneration ?? 3,
          updatedNumberScheduled: over.updatedNumberScheduled ?? 3,
        },
      },
    });
    expect(rolledOut(ds({}))).toBe(true);
    expect(rolledOut(ds({ updatedNumberScheduled: 2 }))).toBe(false);
    expect(rolledOut(ds({ observedGeneration: 2 }))).toBe(false);
  });

  it('reads workloads only while a restart is pending, and only in the ApiKey namespace', async () => {
    const calls: string[] = [];
    const store: WorkloadStore = {
      async list(ns, kind) {
        calls.push(`list ${kind} ${ns}`);
        if (kind !== 'Deployment') return [];
        return [
          deployment('web', pod({ volumes: [{ name: 'v', secret: { secretName: 'ci' } }] })),
          deployment('other', pod({})),
        ];
      },
      async get(ns, kind, name) {
        calls.push(`get ${kind} ${ns}/${name}`);
        return name === 'gone' ? undefined : deployment(name, pod({}));
      },
      annotateTemplate: async () => true,
    };
    const listed = {
      ...restartSpec.rotation,
      restartConsumers: {
        workloads: [
          { kind: 'Deployment', name: 'sidecar' },
          { kind: 'Deployment', name: 'gone' },
        ],
      },
    };
    const k = apiKey({ rotation: listed });
    const view = await observeConsumers(k, 'ci', Date.parse(NOW), store);
    expect(view).toMatchObject({ state: 'observed', workloads: [{ name: 'sidecar' }, { name: 'web' }] });
    expect(calls.every((c) => c.includes('team-a'))).toBe(true);
    expect(restartPending(apiKey(restartSpec, { id: '1c20' }), Date.parse(NOW))).toBe(false);
    expect(restartPending(apiKey({}), Date.parse(NOW))).toBe(false);
    expect(restartPending(apiKey(), Date.parse(LATER) + 1)).toBe(false);
    expect(await observeConsumers(apiKey(), 'ci', Date.parse(NOW), undefined)).toEqual({ state: 'disabled' });
  });
});
