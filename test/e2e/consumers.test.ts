// Consumers that follow a rotation (issue 14), on the real control plane with the emulator, the operator as its own
// process under the RBAC of deploy/overlays/consumer-restarts and CONSUMER_RESTARTS=true. The control plane runs no
// Deployment controller and no kubelet: a restart is seen as the pod template annotation the operator sets, and a
// finished rollout is simulated by writing the Deployment's status subresource as its controller would.
import type { V1Deployment } from '@kubernetes/client-node';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { formatViolations, waitForInvariants } from '../invariants/checker.ts';
import { apiKeyManifest, designManifests } from './support/manifests.ts';
import {
  type ApiKeyObject,
  condition,
  eventually,
  getApiKey,
  readSecretValues,
  waitForCondition,
} from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

const RESTARTED_FOR = 'rancher.keyops.dev/restarted-for';

let world: World;
let apps: AppsV1Api;
beforeAll(async () => {
  world = await startWorld({
    namespaceCount: 5,
    kustomize: 'deploy/overlays/consumer-restarts',
    env: { CONSUMER_RESTARTS: 'true' },
  });
  apps = world.kc.makeApiClient(AppsV1Api);
});
afterAll(async () => {
  await world?.stop();
});

const ns = (i: number): string => world.namespaces[i] ?? '';
const rancherKey = (id: string | undefined) => world.emulator.keys().find((k) => k.id === id);

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { input: yaml });
  expect(r.code, r.stderr).toBe(0);
}

/** deployment renders a one-replica Deployment whose container reads `secret` as given (or not at all). */
function deployment(n: string, name: string, reads: 'envFrom' | 'volume' | 'env' | 'none', secret: string) {
  const container: Record<string, unknown> = { name: 'app', image: 'registry.example.com/app:1' };
  if (reads === 'envFrom') container.envFrom = [{ secretRef: { name: secret } }];
  if (reads === 'env')
    container.env = [
      { name: 'RANCHER_SECRET_KEY', valueFrom: { secretKeyRef: { name: secret, key: 'secretValue' } } },
    ];
  const volumes = reads === 'volume' ? [{ name: 'key', secret: { secretName: secret } }] : [];
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: n },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container], volumes } },
    },
  });
}

const readDeployment = (n: string, name: string) => apps.readNamespacedDeployment({ namespace: n, name });
const restartedFor = (d: V1Deployment) => d.spec?.template?.metadata?.annotations?.[RESTARTED_FOR];

/** rolloutDone writes the status a Deployment controller writes once every replica runs the latest template. */
async function rolloutDone(n: string, name: string): Promise<void> {
  const d = await readDeployment(n, name);
  const status = {
    observedGeneration: d.metadata?.generation,
    replicas: 1,
    updatedReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
  };
  const r = await kubectl([
    'patch',
    'deployment',
    name,
    '-n',
    n,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  expect(r.code, r.stderr).toBe(0);
}

async function rotate(n: string, name: string, token: string, before: ApiKeyObject): Promise<ApiKeyObject> {
  await kubectl(['annotate', 'apikey', name, '-n', n, `rancher.keyops.dev/rotate-requested-at=${token}`]);
  return eventually('rotation written', async () => {
    const k = await getApiKey(world.custom, n, name);
    const d = await readSecretValues(world.core, n, name);
    return k?.status?.id !== before.status?.id && d?.publicValue === k?.status?.publicValue ? k : undefined;
  });
}

async function events(n: string, name: string): Promise<string> {
  return (await kubectl(['get', 'events', '-n', n, '--field-selector', `involvedObject.name=${name}`]))
    .stdout;
}

describe('consumers that follow a rotation (spec.rotation.restartConsumers)', () => {
  it('a rotation restarts the Deployments that read the Secret (found or listed) and retires the old key once they rolled out', async () => {
    const n = ns(0);
    await apply(designManifests(n, world.emulator));
    for (const [name, reads] of [
      ['web', 'envFrom'],
      ['files', 'volume'],
      ['sidecar', 'none'],
      ['unrelated', 'none'],
    ] as const)
      await apply(deployment(n, name, reads, 'rot'));
    await apply(
      apiKeyManifest(n, 'rot', {
        rotation: {
          overlap: '1h',
          restartConsumers: { workloads: [{ kind: 'Deployment', name: 'sidecar' }] },
        },
      }),
    );
    const first = await waitForCondition(world.custom, n, 'rot', 'Ready', 'True');
    const generations = Object.fromEntries(
      await Promise.all(
        ['web', 'files', 'sidecar', 'unrelated'].map(async (d) => [
          d,
          (await readDeployment(n, d)).metadata?.generation,
        ]),
      ),
    );
    const rotated = await rotate(n, 'rot', 'r-1', first);
    const pv = rotated.status?.publicValue;
    // Each consumer's pod template now names the new key: a rolling restart, as `kubectl rollout restart` makes.
    for (const d of ['web', 'files', 'sidecar'])
      await eventually(`${d} restarted`, async () =>
        restartedFor(await readDeployment(n, d)) === pv ? true : undefined,
      );
    const unrelated = await readDeployment(n, 'unrelated');
    expect(restartedFor(unrelated)).toBeUndefined();
    expect(unrelated.metadata?.generation).toBe(generations.unrelated);
    expect((await readDeployment(n, 'web')).metadata?.generation).toBe((generations.web ?? 0) + 1);
    // Until they have rolled out, the old key stays active (the overlap is an hour) and the ApiKey says why.
    const waiting = await waitForCondition(world.custom, n, 'rot', 'Reconciling', 'True');
    expect(condition(waiting, 'Reconciling')?.reason).toBe('WaitingForRollout');
    expect(condition(waiting, 'Reconciling')?.message).toMatch(
      /Deployment\/files, Deployment\/sidecar, Deployment\/web/,
    );
    expect(condition(waiting, 'Ready')?.status).toBe('True');
    expect(rancherKey(first.status?.id)?.state).toBe('active');
    expect(await events(n, 'rot')).toMatch(/RestartedConsumers/);
    // Two of three rolled out: still held.
    await rolloutDone(n, 'web');
    await rolloutDone(n, 'files');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(rancherKey(first.status?.id)?.state).toBe('active');
    // All three: the old key is retired long before the overlap ends.
    await rolloutDone(n, 'sidecar');
    await eventually(
      'old key purged',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      60_000,
    );
    const done = await eventually('settled', async () => {
      const k = await getApiKey(world.custom, n, 'rot');
      return (k?.status?.retiring?.length ?? 0) === 0 && condition(k, 'Reconciling') === undefined
        ? k
        : undefined;
    });
    expect(condition(done, 'Ready')?.status).toBe('True');
    // A second restart is never sent for the same rotation.
    expect((await readDeployment(n, 'web')).metadata?.generation).toBe((generations.web ?? 0) + 1);
  });

  it('StatefulSets and DaemonSets are found too (projected volume, env secretKeyRef) and followed by their own status', async () => {
    const n = ns(4);
    await apply(designManifests(n, world.emulator));
    const template = (spec: object) => ({
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1', ...spec }] },
    });
    await apply(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: n },
        spec: {
          serviceName: 'db',
          replicas: 1,
          selector: { matchLabels: { app: 'x' } },
          template: {
            ...template({}),
            spec: {
              ...template({}).spec,
              volumes: [{ name: 'k', projected: { sources: [{ secret: { name: 'sets' } }] } }],
            },
          },
        },
      }),
    );
    await apply(
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agent', namespace: n },
        spec: {
          selector: { matchLabels: { app: 'x' } },
          template: template({
            env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'sets', key: 'publicValue' } } }],
          }),
        },
      }),
    );
    await apply(apiKeyManifest(n, 'sets', { rotation: { overlap: '1h', restartConsumers: {} } }));
    const first = await waitForCondition(world.custom, n, 'sets', 'Ready', 'True');
    const rotated = await rotate(n, 'sets', 'k-1', first);
    const pv = rotated.status?.publicValue;
    const sts = () => apps.readNamespacedStatefulSet({ namespace: n, name: 'db' });
    const ds = () => apps.readNamespacedDaemonSet({ namespace: n, name: 'agent' });
    await eventually('both restarted', async () =>
      (await sts()).spec?.template?.metadata?.annotations?.[RESTARTED_FOR] === pv &&
      (await ds()).spec?.template?.metadata?.annotations?.[RESTARTED_FOR] === pv
        ? true
        : undefined,
    );
    expect(rancherKey(first.status?.id)?.state).toBe('active');
    const statusPatch = async (kind: string, name: string, status: object) => {
      const r = await kubectl([
        'patch',
        kind,
        name,
        '-n',
        n,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status }),
      ]);
      expect(r.code, r.stderr).toBe(0);
    };
    await statusPatch('statefulset', 'db', {
      observedGeneration: (await sts()).metadata?.generation,
      replicas: 1,
      readyReplicas: 1,
      updatedReplicas: 1,
      currentRevision: 'db-2',
      updateRevision: 'db-2',
    });
    await statusPatch('daemonset', 'agent', {
      observedGeneration: (await ds()).metadata?.generation,
      currentNumberScheduled: 1,
      numberMisscheduled: 0,
      desiredNumberScheduled: 1,
      numberReady: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
    });
    await eventually(
      'old key purged long before the overlap ends',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      60_000,
    );
  });

  it('a rollout that never finishes: the old key still retires when the overlap ends', async () => {
    const n = ns(1);
    await apply(designManifests(n, world.emulator));
    await apply(deployment(n, 'stuck', 'env', 'slow'));
    await apply(apiKeyManifest(n, 'slow', { rotation: { overlap: '4s', restartConsumers: {} } }));
    const first = await waitForCondition(world.custom, n, 'slow', 'Ready', 'True');
    const rotated = await rotate(n, 'slow', 's-1', first);
    await eventually('stuck restarted', async () =>
      restartedFor(await readDeployment(n, 'stuck')) === rotated.status?.publicValue ? true : undefined,
    );
    await eventually(
      'old key purged after the overlap',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      60_000,
    );
  });

  it('off by default: without restartConsumers a consumer is never touched (env consumers keep the old pair until they restart)', async () => {
    const n = ns(2);
    await apply(designManifests(n, world.emulator));
    await apply(deployment(n, 'web', 'envFrom', 'plain'));
    await apply(apiKeyManifest(n, 'plain', { rotation: { overlap: '2s' } }));
    const first = await waitForCondition(world.custom, n, 'plain', 'Ready', 'True');
    const before = await readDeployment(n, 'web');
    await rotate(n, 'plain', 'p-1', first);
    await eventually(
      'old key purged',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      60_000,
    );
    const after = await readDeployment(n, 'web');
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(restartedFor(after)).toBeUndefined();
  });

  it('attack: a rotation never restarts a workload in another namespace, even one reading a Secret of the same name', async () => {
    const [n, other] = [ns(3), ns(2)];
    await apply(designManifests(n, world.emulator));
    await apply(deployment(other, 'victim', 'envFrom', 'shared'));
    await apply(deployment(n, 'own', 'envFrom', 'shared'));
    await apply(
      apiKeyManifest(n, 'shared', {
        rotation: {
          overlap: '1h',
          restartConsumers: { workloads: [{ kind: 'Deployment', name: 'victim' }] },
        },
      }),
    );
    const first = await waitForCondition(world.custom, n, 'shared', 'Ready', 'True');
    const victim = await readDeployment(other, 'victim');
    const rotated = await rotate(n, 'shared', 'a-1', first);
    await eventually('own restarted', async () =>
      restartedFor(await readDeployment(n, 'own')) === rotated.status?.publicValue ? true : undefined,
    );
    const after = await readDeployment(other, 'victim');
    expect(after.metadata?.generation).toBe(victim.metadata?.generation);
    expect(restartedFor(after)).toBeUndefined();
    // Its own consumer rolls out: the old key goes, though nothing happened to the listed one elsewhere.
    await rolloutDone(n, 'own');
    await eventually(
      'old key purged',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      60_000,
    );
  });
  // Last: it restarts the operator without consumer restarts.
  it('an operator running without consumer restarts (CONSUMER_RESTARTS=false) touches no workload and says so', async () => {
    await world.restartOperator({ env: { CONSUMER_RESTARTS: 'false' } });
    const n = ns(1);
    await apply(deployment(n, 'api', 'envFrom', 'nope'));
    await apply(apiKeyManifest(n, 'nope', { rotation: { overlap: '3s', restartConsumers: {} } }));
    const first = await waitForCondition(world.custom, n, 'nope', 'Ready', 'True');
    const before = await readDeployment(n, 'api');
    await rotate(n, 'nope', 'n-1', first);
    await eventually('ConsumerRestartsDisabled Event', async () =>
      (await events(n, 'nope')).includes('ConsumerRestartsDisabled') ? true : undefined,
    );
    await eventually(
      'old key purged after the overlap',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      60_000,
    );
    const after = await readDeployment(n, 'api');
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(restartedFor(after)).toBeUndefined();
  });
  it('afterwards every invariant holds (one key per ApiKey, working Secrets, no secret value in logs or Events, no write outside)', async () => {
    const violations = await waitForInvariants(
      {
        kc: world.kc,
        emulator: world.emulator,
        namespaces: world.namespaces,
        operatorLogs: world.operator.lines,
      },
      60_000,
    );
    expect(formatViolations(violations)).toBe('');
  });
});
