// Connection policy attacks (issue 11 points 3, 5, 7 URL part, 8), as a tenant of team-b would try them,
// asserting what a victim or an admin observes: keys in Rancher, requests reaching a server, conditions.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../control-plane/testing.ts';
import { apply } from '../../invariants/world-helpers.ts';
import { apiKeyManifest } from '../support/manifests.ts';
import { condition, eventually, getApiKey, waitForCondition } from '../support/wait.ts';
import { OPERATOR_NAMESPACE, startWorld, type World } from '../support/world.ts';

const GROUP = 'rancher.keyops.dev';
const ENV = '1a5';
const OTHER_ENV = '1a6';
let world: World;
const teamB = () => world.namespaces[1] ?? '';

/** Recorder is a loopback HTTP server that answers 401 and remembers every request it got. */
interface Recorder {
  url: string;
  requests: { method: string; path: string; authorization: boolean }[];
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const requests: Recorder['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: !!req.headers.authorization,
    });
    req.resume();
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', status: 401, code: 'Unauthorized' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const keysOf = (ns: string, name: string) =>
  world.emulator.keys().filter((k) => k.description?.includes(`${ns}/${name} `));

type Conditions = { type: string; status: string; reason: string; message: string }[];

async function connectionReady(ns: string, name: string) {
  const o = (await world.custom.getNamespacedCustomObject({
    group: GROUP,
    version: 'v1alpha1',
    plural: 'rancherconnections',
    namespace: ns,
    name,
  })) as { status?: { conditions?: Conditions } };
  return o.status?.conditions?.find((c) => c.type === 'Ready');
}

async function stalledWith(ns: string, name: string, reason: string) {
  const k = await waitForCondition(world.custom, ns, name, 'Ready', 'False', reason, 30_000);
  expect(condition(k, 'Stalled')?.status).toBe('True');
  return condition(k, 'Ready');
}

function credentialsSecret(
  ns: string,
  name: string,
  opts: { secretKey?: string; labelled?: boolean; type?: string } = {},
): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: ns,
      ...(opts.labelled ? { labels: { [`${GROUP}/credentials`]: 'true' } } : {}),
    },
    ...(opts.type ? { type: opts.type } : {}),
    stringData: {
      accessKey: world.emulator.admin.accessKey,
      secretKey: opts.secretKey ?? world.emulator.admin.secretKey,
    },
  });
}

function connection(ns: string, name: string, url: string, secret: string, extra: object = {}): string {
  return JSON.stringify({
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'RancherConnection',
    metadata: { name, namespace: ns },
    spec: { url, credentialsSecretRef: { name: secret, ...extra } },
  });
}

beforeAll(async () => {
  world = await startWorld({ namespaceCount: 2 });
});
afterAll(async () => {
  const b = world?.namespaces[1];
  if (b) {
    await kubectl(['delete', 'clusterrancherconnection', `policy-${b}`, '--ignore-not-found']);
    await kubectl(['delete', 'secret', '-n', OPERATOR_NAMESPACE, `policy-creds-${b}`, '--ignore-not-found']);
  }
  await world?.stop();
});

describe('a ClusterRancherConnection hands out only the environments it lists', () => {
  it('team-b gets keys in 1a5 only: another environment and an account key are refused, nothing is created for them', async () => {
    const b = teamB();
    await apply(credentialsSecret(OPERATOR_NAMESPACE, `policy-creds-${b}`, { labelled: true }));
    await apply(
      JSON.stringify({
        apiVersion: `${GROUP}/v1alpha1`,
        kind: 'ClusterRancherConnection',
        metadata: { name: `policy-${b}` },
        spec: {
          url: world.emulator.url,
          credentialsSecretRef: { name: `policy-creds-${b}`, namespace: OPERATOR_NAMESPACE },
          allowedNamespaces: { names: [b] },
          allowedEnvironments: [ENV],
        },
      }),
    );
    const ref = { kind: 'ClusterRancherConnection', name: `policy-${b}` };
    const otherEnvKeysBefore = world.emulator.keys().filter((k) => k.accountId === OTHER_ENV).length;
    const adminKeysBefore = world.emulator.keys().filter((k) => k.accountId === '1a1').length;
    await apply(apiKeyManifest(b, 'other-env', { connectionRef: ref, environment: OTHER_ENV }));
    await apply(apiKeyManifest(b, 'account', { connectionRef: ref }));
    await apply(apiKeyManifest(b, 'allowed-env', { connectionRef: ref, environment: ENV }));

    const env = await stalledWith(b, 'other-env', 'EnvironmentNotAllowed');
    expect(env?.message).toContain('spec.allowedEnvironments');
    const account = await stalledWith(b, 'account', 'AccountKeysNotAllowed');
    expect(account?.message).toContain('spec.allowAccountKeys');
    await waitForCondition(world.custom, b, 'allowed-env', 'Ready', 'True', undefined, 30_000);

    expect(keysOf(b, 'other-env')).toEqual([]);
    expect(keysOf(b, 'account')).toEqual([]);
    expect(keysOf(b, 'allowed-env').map((k) => k.accountId)).toEqual([ENV]);
    expect(world.emulator.keys().filter((k) => k.accountId === OTHER_ENV)).toHaveLength(otherEnvKeysBefore);
    expect(world.emulator.keys().filter((k) => k.accountId === '1a1')).toHaveLength(adminKeysBefore);
  });
});

describe('credentials Secrets', () => {
  it('a ServiceAccount token Secret is refused and never sent: the server at the URL sees no credentials', async () => {
    const b = teamB();
    const server = await startRecorder();
    try {
      await world.core.createNamespacedServiceAccount({
        namespace: b,
        body: { metadata: { name: 'victim-sa' } },
      });
      await world.core.createNamespacedSecret({
        namespace: b,
        body: {
          metadata: { name: 'sa-token', annotations: { 'kubernetes.io/service-account.name': 'victim-sa' } },
          type: 'kubernetes.io/service-account-token',
          stringData: { user: 'anything', token: 'a-token-value' },
        },
      });
      await apply(
        connection(b, 'steal-token', server.url, 'sa-token', { accessKeyKey: 'user', secretKeyKey: 'token' }),
      );
      await apply(
        apiKeyManifest(b, 'steal-token-key', { connectionRef: { name: 'steal-token' }, environment: ENV }),
      );
      const c = await stalledWith(b, 'steal-token-key', 'CredentialsSecretRefused');
      expect(c?.message).toContain(`${GROUP}/credentials`);
      expect(c?.message).not.toContain('a-token-value');
      await eventually('the connection reports the refusal', async () =>
        (await connectionReady(b, 'steal-token'))?.reason === 'CredentialsSecretRefused' ? true : undefined,
      );
      // A few connection rechecks (DRIFT_CHECK_INTERVAL=3s in the test world) pass meanwhile.
      await new Promise((r) => setTimeout(r, 7_000));
      expect(server.requests.filter((r) => r.authorization)).toEqual([]);

      // Control: the same server does get the operator's request when the Secret is an ordinary one.
      await apply(credentialsSecret(b, 'plain-creds', { labelled: true }));
      await apply(connection(b, 'control', server.url, 'plain-creds'));
      await eventually('the control connection reaches the recorder', async () =>
        server.requests.some((r) => r.authorization) ? true : undefined,
      );
    } finally {
      await server.close();
    }
  });
});

describe('URLs', () => {
  it('kubectl apply of a RancherConnection with user info in the URL fails with the reason', async () => {
    const b = teamB();
    const r = await kubectl(['apply', '-f', '-'], {
      input: connection(b, 'userinfo', 'http://user:pass@rancher.example.com', 'plain-creds'),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('url must not contain user info');
  });
});

describe('with CREDENTIALS_OPT_IN=required and ALLOWED_RANCHER_URLS set', () => {
  let server: Recorder;
  beforeAll(async () => {
    server = await startRecorder();
    await world.restartOperator({
      env: { CREDENTIALS_OPT_IN: 'required', ALLOWED_RANCHER_URLS: `${world.emulator.url}/` },
    });
  });
  afterAll(async () => {
    await server?.close();
    await world.restartOperator();
  });

  it('an unlabelled Opaque Secret is refused, a labelled one works', async () => {
    const b = teamB();
    await apply(credentialsSecret(b, 'optin-plain'));
    await apply(connection(b, 'optin-plain', world.emulator.url, 'optin-plain'));
    await apply(
      apiKeyManifest(b, 'optin-plain-key', { connectionRef: { name: 'optin-plain' }, environment: ENV }),
    );
    await apply(credentialsSecret(b, 'optin-labelled', { labelled: true }));
    await apply(connection(b, 'optin-labelled', world.emulator.url, 'optin-labelled'));
    await apply(
      apiKeyManifest(b, 'optin-labelled-key', {
        connectionRef: { name: 'optin-labelled' },
        environment: ENV,
      }),
    );

    const c = await stalledWith(b, 'optin-plain-key', 'CredentialsSecretRefused');
    expect(c?.message).toContain('CREDENTIALS_OPT_IN=required');
    await waitForCondition(world.custom, b, 'optin-labelled-key', 'Ready', 'True', undefined, 30_000);
    expect(keysOf(b, 'optin-plain-key')).toEqual([]);
    expect(keysOf(b, 'optin-labelled-key')).toHaveLength(1);
  });

  it('a team-b connection to a URL outside ALLOWED_RANCHER_URLS is refused and the server gets no request', async () => {
    const b = teamB();
    await apply(credentialsSecret(b, 'elsewhere-creds', { labelled: true }));
    await apply(connection(b, 'elsewhere', server.url, 'elsewhere-creds'));
    await apply(
      apiKeyManifest(b, 'elsewhere-key', { connectionRef: { name: 'elsewhere' }, environment: ENV }),
    );
    const c = await stalledWith(b, 'elsewhere-key', 'URLNotAllowed');
    expect(c?.message).toContain('ALLOWED_RANCHER_URLS');
    await eventually('the connection reports URLNotAllowed', async () =>
      (await connectionReady(b, 'elsewhere'))?.reason === 'URLNotAllowed' ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 7_000));
    expect(server.requests).toEqual([]);
  });
});

// The production recheck interval (10 min), so that nothing but the fixes under test can explain a quick
// recovery (the test world's 3 s drift interval would also recheck connections every 3 s).
describe('no stale verdicts (DRIFT_CHECK_INTERVAL=10m)', () => {
  beforeAll(async () => {
    await world.restartOperator({ env: { DRIFT_CHECK_INTERVAL: '10m' } });
  });
  afterAll(async () => {
    await world.restartOperator();
  });

  const adminAuth = () =>
    `Basic ${Buffer.from(`${world.emulator.admin.accessKey}:${world.emulator.admin.secretKey}`).toString('base64')}`;

  async function fixAndMeasure(ns: string, secret: string, apiKey: string): Promise<number> {
    const fixedAt = Date.now();
    await apply(credentialsSecret(ns, secret));
    await waitForCondition(world.custom, ns, apiKey, 'Ready', 'True', undefined, 30_000);
    return (Date.now() - fixedAt) / 1000;
  }

  it('fixing the credentials makes a RancherUnauthorized ApiKey Ready within seconds', async () => {
    const b = teamB();
    await apply(credentialsSecret(b, 'fixme-creds', { secretKey: 'wrong-secret-value' }));
    await apply(connection(b, 'fixme', world.emulator.url, 'fixme-creds'));
    await apply(apiKeyManifest(b, 'fixme-key', { connectionRef: { name: 'fixme' }, environment: ENV }));
    await stalledWith(b, 'fixme-key', 'RancherUnauthorized');
    expect(keysOf(b, 'fixme-key')).toEqual([]);

    const seconds = await fixAndMeasure(b, 'fixme-creds', 'fixme-key');
    expect(seconds, `Ready ${seconds.toFixed(1)} s after the fix`).toBeLessThan(15);
    expect((await connectionReady(b, 'fixme'))?.status).toBe('True');
    expect(condition(await getApiKey(world.custom, b, 'fixme-key'), 'Stalled')?.status ?? 'False').toBe(
      'False',
    );
  });

  it('credentials revoked in Rancher: the connection stops saying CredentialsValid at once, and recovers after the fix', async () => {
    const b = teamB();
    const created = await fetch(`${world.emulator.url}/v1/apikeys`, {
      method: 'POST',
      headers: { authorization: adminAuth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: `connection-${b}` }),
    });
    expect(created.status).toBeLessThan(300);
    const key = (await created.json()) as { id: string; publicValue: string; secretValue: string };
    await apply(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'revoke-creds', namespace: b },
        stringData: { accessKey: key.publicValue, secretKey: key.secretValue },
      }),
    );
    await apply(connection(b, 'revoke', world.emulator.url, 'revoke-creds'));
    await apply(apiKeyManifest(b, 'revoke-key', { connectionRef: { name: 'revoke' }, environment: ENV }));
    await waitForCondition(world.custom, b, 'revoke-key', 'Ready', 'True', undefined, 30_000);
    expect((await connectionReady(b, 'revoke'))?.reason).toBe('CredentialsValid');

    const off = await fetch(`${world.emulator.url}/v1/apikeys/${key.id}/?action=deactivate`, {
      method: 'POST',
      headers: { authorization: adminAuth() },
    });
    expect(off.status).toBeLessThan(300);
    // The ApiKey asks Rancher (a reconcile request), is refused, and the connection re-checks at once.
    const r = await kubectl([
      'annotate',
      '--overwrite',
      '-n',
      b,
      'apikey/revoke-key',
      `${GROUP}/reconcile-requested-at=${new Date().toISOString()}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    await stalledWith(b, 'revoke-key', 'RancherUnauthorized');
    await eventually(
      'the connection reports RancherUnauthorized',
      async () => ((await connectionReady(b, 'revoke'))?.reason === 'RancherUnauthorized' ? true : undefined),
      15_000,
    );

    const seconds = await fixAndMeasure(b, 'revoke-creds', 'revoke-key');
    expect(seconds, `Ready ${seconds.toFixed(1)} s after the fix`).toBeLessThan(15);
    expect((await connectionReady(b, 'revoke'))?.reason).toBe('CredentialsValid');
  });
});
