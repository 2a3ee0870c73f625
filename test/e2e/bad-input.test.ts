import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { apiKeyManifest, designManifests } from './support/manifests.ts';
import { condition, getApiKey, readSecretValues, waitForCondition } from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ namespaceCount: 6 });
});
afterAll(async () => {
  await world?.stop();
});

const ns = (i: number): string => world.namespaces[i] ?? '';

async function apply(yaml: string) {
  return kubectl(['apply', '-f', '-'], { input: yaml });
}

const created = (name: string) => world.emulator.keys().filter((k) => k.name === name);

async function events(n: string, name: string): Promise<string> {
  const r = await kubectl([
    'get',
    'events',
    '-n',
    n,
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'wide',
  ]);
  return r.stdout;
}

describe('bad input is rejected or reported clearly, and nothing is lost', () => {
  it('the apiserver rejects invalid ApiKeys with messages that name the field', async () => {
    const n = ns(0);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ state: 'Paused' }, /spec\.state: Unsupported value: "Paused"/],
      [{ environment: 'default' }, /spec\.environment/],
      [{ deletionPolicy: 'Delete' }, /spec\.deletionPolicy: Unsupported value/],
      [
        { secret: { keys: { publicValue: 'same', secretValue: 'same' } } },
        /must be three different data keys/,
      ],
      [{ connectionRef: {} }, /spec\.connectionRef\.name: Required value/],
    ];
    for (const [spec, message] of cases) {
      const r = await apply(apiKeyManifest(n, 'bad', spec));
      expect(r.code, JSON.stringify(spec)).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });

  it('the apiserver rejects a connection URL that carries the API version, and an immutable field change', async () => {
    const n = ns(0);
    const conn = designManifests(n, world.emulator).replace(world.emulator.url, `${world.emulator.url}/v1`);
    const r = await apply(conn);
    expect(r.stderr).toMatch(/url is the Rancher base URL without the API version/);
    await apply(designManifests(n, world.emulator));
    await waitForCondition(world.custom, n, 'ci-deployer', 'Ready', 'True');
    const patch = await kubectl([
      'patch',
      'apikey',
      'ci-deployer',
      '-n',
      n,
      '--type=merge',
      '-p',
      '{"spec":{"environment":"1a6"}}',
    ]);
    expect(patch.stderr).toMatch(/environment is immutable/);
  });

  it('wrong credentials: Ready=False RancherUnauthorized (Stalled), an Event, and no key created', async () => {
    const n = ns(1);
    await apply(
      designManifests(n, world.emulator, { secretKey: 'wrong-secret-value-000000000000000000000' }).replace(
        /ci-deployer/g,
        'wrongcreds',
      ),
    );
    const k = await waitForCondition(world.custom, n, 'wrongcreds', 'Ready', 'False', 'RancherUnauthorized');
    expect(condition(k, 'Stalled')?.status).toBe('True');
    expect(condition(k, 'Ready')?.message).toMatch(/rejected the credentials/);
    expect(created('wrongcreds')).toEqual([]);
    expect(await events(n, 'wrongcreds')).toMatch(/RancherUnauthorized/);
  });

  it('unreachable Rancher: Ready=False RancherUnavailable, retried, nothing written', async () => {
    const n = ns(2);
    await apply(
      designManifests(n, world.emulator)
        .replace(world.emulator.url, 'http://127.0.0.1:9')
        .replace(/ci-deployer/g, 'unreachable'),
    );
    const k = await waitForCondition(world.custom, n, 'unreachable', 'Ready', 'False', 'RancherUnavailable');
    expect(condition(k, 'Ready')?.message).toMatch(/cannot reach Rancher at http:\/\/127\.0\.0\.1:9/);
    expect(await readSecretValues(world.core, n, 'unreachable-rancher')).toBeUndefined();
  });

  it('a ClusterRancherConnection that does not allow the namespace: NamespaceNotAllowed and nothing created', async () => {
    const n = ns(3);
    const cluster = `
apiVersion: rancher.keyops.dev/v1alpha1
kind: ClusterRancherConnection
metadata: {name: shared-${n}}
spec:
  url: ${world.emulator.url}
  credentialsSecretRef: {name: shared-creds, namespace: rancher-apikey-operator-system}
  allowedNamespaces: {names: [some-other-namespace]}
`;
    expect((await apply(cluster)).code).toBe(0);
    await apply(
      apiKeyManifest(n, 'forbidden', {
        connectionRef: { kind: 'ClusterRancherConnection', name: `shared-${n}` },
      }),
    );
    const k = await waitForCondition(world.custom, n, 'forbidden', 'Ready', 'False', 'NamespaceNotAllowed');
    expect(condition(k, 'Ready')?.message).toContain(`does not allow namespace ${n}`);
    expect(created('forbidden')).toEqual([]);
  });

  it('a ClusterRancherConnection whose Secret lives outside the operator namespace is refused', async () => {
    const n = ns(3);
    const cluster = `
apiVersion: rancher.keyops.dev/v1alpha1
kind: ClusterRancherConnection
metadata: {name: elsewhere-${n}}
spec:
  url: ${world.emulator.url}
  credentialsSecretRef: {name: rancher-credentials, namespace: ${n}}
  allowedNamespaces: {names: [${n}]}
`;
    await apply(cluster);
    await apply(
      apiKeyManifest(n, 'elsewhere', {
        connectionRef: { kind: 'ClusterRancherConnection', name: `elsewhere-${n}` },
      }),
    );
    await waitForCondition(world.custom, n, 'elsewhere', 'Ready', 'False', 'CredentialsNamespaceNotAllowed');
    expect(created('elsewhere')).toEqual([]);
  });

  it('a Secret owned by someone else is never touched: SecretConflict, Stalled, an Event', async () => {
    const n = ns(4);
    await world.core.createNamespacedSecret({
      namespace: n,
      body: { metadata: { name: 'taken' }, stringData: { owner: 'someone else' } },
    });
    await apply(designManifests(n, world.emulator));
    await apply(apiKeyManifest(n, 'conflict', { secret: { name: 'taken' } }));
    const k = await waitForCondition(world.custom, n, 'conflict', 'Ready', 'False', 'SecretConflict');
    expect(condition(k, 'Stalled')?.status).toBe('True');
    expect(await readSecretValues(world.core, n, 'taken')).toEqual({ owner: 'someone else' });
    expect(created('conflict')).toEqual([]);
    const said = await events(n, 'conflict');
    expect(said).toMatch(/SecretConflict/);
    // The refused create is not a failure of its own: one Warning (SecretConflict), no CannotCreateKey.
    expect(said).not.toMatch(/CannotCreateKey/);
    // Admin credentials: the operator tried to create the Secret (409) before any finalizer or Rancher call,
    // so nothing holds the ApiKey: it is deleted at once.
    expect(k.metadata?.finalizers ?? []).toEqual([]);
    const del = await kubectl(['delete', 'apikey', 'conflict', '-n', n, '--timeout=10s']);
    expect(del.code, del.stderr).toBe(0);
  });

  it('a Secret owned by another ApiKey is not taken over', async () => {
    const n = ns(4);
    await apply(apiKeyManifest(n, 'owner-a', { secret: { name: 'shared-out' } }));
    await waitForCondition(world.custom, n, 'owner-a', 'Ready', 'True');
    const before = await readSecretValues(world.core, n, 'shared-out');
    await apply(apiKeyManifest(n, 'owner-b', { secret: { name: 'shared-out' } }));
    await waitForCondition(world.custom, n, 'owner-b', 'Ready', 'False', 'SecretConflict');
    expect(await readSecretValues(world.core, n, 'shared-out')).toEqual(before);
  });

  it('non-admin credentials (values cannot be supplied) still yield a working key', async () => {
    const n = ns(5);
    const user = world.emulator.user;
    await apply(designManifests(n, world.emulator, { accessKey: user.accessKey, secretKey: user.secretKey }));
    const k = await waitForCondition(world.custom, n, 'ci-deployer', 'Ready', 'True');
    // Once the connection reports Ready, its status says the credentials cannot supply values.
    const ready = await kubectl([
      'wait',
      '--for=condition=Ready',
      '--timeout=30s',
      '-n',
      n,
      'rancherconnection/rancher',
    ]);
    expect(ready.code, ready.stderr).toBe(0);
    const r = await kubectl([
      'get',
      'rancherconnection',
      'rancher',
      '-n',
      n,
      '-o',
      'jsonpath={.status.canSupplyValues}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('false');
    // Rancher generated the pair: the key in Rancher has the public value in status.
    expect(world.emulator.keys().find((x) => x.id === k.status?.id)?.publicValue).toBe(k.status?.publicValue);
    const data = await readSecretValues(world.core, n, 'ci-deployer-rancher');
    expect(data?.publicValue).toBe(k.status?.publicValue);
    expect((await getApiKey(world.custom, n, 'ci-deployer'))?.status?.rancherState).toBe('active');
  });
});
