import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { createTestCa } from '../emulator/test-pki.ts';
import { type ForwardProxy, startForwardProxy } from './support/forward-proxy.ts';
import { apiKeyManifest } from './support/manifests.ts';
import { eventually, waitForCondition } from './support/wait.ts';
import { OPERATOR_NAMESPACE, startWorld, type World } from './support/world.ts';

// Issue 14, "Real networks": Rancher behind an HTTP proxy (CONNECT for https, absolute-URI forwarding for http,
// NO_PROXY), a private CA from a ConfigMap trusted in addition to the default roots, and a connection URL that
// is an environment's schemas URL. One operator process serves four namespaces, each with its own Rancher:
//   A  https, private CA (world.emulator)       through the proxy (CONNECT), CA from a ConfigMap
//   B  https, CA in NODE_EXTRA_CA_CERTS         through the proxy (CONNECT), an unrelated caBundle set
//   C  http, environment schemas URL            through the proxy (absolute-URI requests)
//   D  http                                     NO_PROXY names it: straight to Rancher

let world: World;
let proxy: ForwardProxy;
let systemRanch: Emulator;
let envRanch: Emulator;
let directRanch: Emulator;
let tmp: string;
const privateCa = createTestCa('rancher-private-ca');
const systemCa = createTestCa('stand-in-system-root');

const portOf = (url: string) => new URL(url).port;
const suffix = randomBytes(3).toString('hex');
const clusterNames = [`networks-ca-${suffix}`, `networks-foreign-ca-${suffix}`];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-networks-'));
  // NODE_EXTRA_CA_CERTS stands in for the system store: Node adds it to its default roots.
  const extraCas = join(tmp, 'system-roots.pem');
  writeFileSync(extraCas, systemCa.cert);
  proxy = await startForwardProxy();
  systemRanch = await startEmulator({
    transitionDelayMs: 20,
    autoPurgeDelayMs: 600_000,
    tls: systemCa.issue(),
  });
  envRanch = await startEmulator({ transitionDelayMs: 20, autoPurgeDelayMs: 600_000 });
  directRanch = await startEmulator({ transitionDelayMs: 20, autoPurgeDelayMs: 600_000 });
  world = await startWorld({
    namespaceCount: 5,
    emulator: { tls: privateCa.issue() },
    env: {
      HTTPS_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
      // Only D is excluded (host:port): the other three Rancher servers share its address, 127.0.0.1.
      NO_PROXY: `127.0.0.1:${portOf(directRanch.url)}`,
      NODE_EXTRA_CA_CERTS: extraCas,
    },
  });
});

afterAll(async () => {
  for (const name of clusterNames)
    await kubectl(['delete', 'clusterrancherconnection', name, '--ignore-not-found', '--wait=false']);
  for (const name of ['networks-creds', 'networks-ca'].map((n) => `${n}-${suffix}`))
    await kubectl(['delete', 'secret,configmap', '-n', OPERATOR_NAMESPACE, name, '--ignore-not-found']);
  await world?.stop();
  await Promise.all([systemRanch?.close(), envRanch?.close(), directRanch?.close(), proxy?.close()]);
  await rm(tmp, { recursive: true, force: true });
});

/** apply applies objects (JSON documents) as the test user. */
async function apply(...objects: object[]): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], {
    input: objects.map((o) => JSON.stringify(o)).join('\n---\n'),
  });
  expect(r.code, r.stderr).toBe(0);
}

const credentials = (ns: string, rancher: Emulator) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'rancher-credentials', namespace: ns },
  stringData: { accessKey: rancher.admin.accessKey, secretKey: rancher.admin.secretKey },
});

const connection = (ns: string, spec: Record<string, unknown>) => ({
  apiVersion: 'rancher.keyops.dev/v1alpha1',
  kind: 'RancherConnection',
  metadata: { name: 'rancher', namespace: ns },
  spec: { credentialsSecretRef: { name: 'rancher-credentials' }, ...spec },
});

type Condition = { type: string; status: string; reason: string; message: string };

/** connectionReady waits until the namespace's RancherConnection has Ready with that status and reason. */
function connectionReady(
  custom: CustomObjectsApi,
  ns: string,
  status: string,
  reason: string,
  name = 'rancher',
) {
  return eventually(`RancherConnection ${ns}/${name} Ready=${status} (${reason})`, async () => {
    const c = (await custom.getNamespacedCustomObject({
      group: 'rancher.keyops.dev',
      version: 'v1alpha1',
      plural: 'rancherconnections',
      namespace: ns,
      name,
    })) as { status?: { conditions?: Condition[] } };
    const ready = c.status?.conditions?.find((x) => x.type === 'Ready');
    return ready?.status === status && ready.reason === reason ? ready : undefined;
  });
}

const tunnelsTo = (url: string) => proxy.seen.filter((s) => s === `CONNECT 127.0.0.1:${portOf(url)}`);

describe('Rancher through an HTTP proxy, private CAs and environment URLs', () => {
  it('A: https through CONNECT, trusting a private CA read from a ConfigMap once it appears', async () => {
    const ns = world.namespaces[0] ?? '';
    await apply(
      credentials(ns, world.emulator),
      connection(ns, {
        url: world.emulator.url,
        caBundleRef: { kind: 'ConfigMap', name: 'rancher-ca', key: 'ca.crt' },
      }),
    );
    await apply(JSON.parse(apiKeyManifest(ns, 'through-proxy', {})));
    const missing = await connectionReady(world.custom, ns, 'False', 'CABundleNotFound');
    expect(missing.message).toBe(`ConfigMap ${ns}/rancher-ca named by spec.caBundleRef not found`);
    // The ApiKey says the same, and nothing reached Rancher yet.
    await waitForCondition(world.custom, ns, 'through-proxy', 'Ready', 'False', 'CABundleNotFound');
    expect(world.emulator.keys().filter((k) => k.name === 'through-proxy')).toEqual([]);
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'rancher-ca', namespace: ns },
      data: { 'ca.crt': privateCa.cert },
    });
    await connectionReady(world.custom, ns, 'True', 'CredentialsValid');
    const key = await waitForCondition(world.custom, ns, 'through-proxy', 'Ready', 'True', undefined, 60_000);
    expect(world.emulator.keys().some((k) => k.id === key.status?.id)).toBe(true);
    expect(tunnelsTo(world.emulator.url).length).toBeGreaterThan(0);
  });

  it('A: without the CA the connection is not Ready, and the reason says the certificate is not trusted', async () => {
    const ns = world.namespaces[0] ?? '';
    const untrusted = connection(ns, { url: world.emulator.url });
    await apply({ ...untrusted, metadata: { ...untrusted.metadata, name: 'untrusted' } });
    const ready = await connectionReady(world.custom, ns, 'False', 'RancherUnavailable', 'untrusted');
    expect(ready.message).toContain('TLS certificate not trusted');
    expect(ready.message).toContain('caBundle or caBundleRef');
  });

  it('the apiserver is never reached through the proxy (its client does not read HTTP(S)_PROXY)', () => {
    const server = world.kc.getCurrentCluster()?.server ?? '';
    expect(server).toMatch(/^https:\/\//);
    expect(proxy.seen.filter((s) => s.includes(`:${portOf(server)}`))).toEqual([]);
  });

  it('B: with a caBundle set, a certificate signed by a default root (NODE_EXTRA_CA_CERTS) is still trusted', async () => {
    const ns = world.namespaces[1] ?? '';
    await apply(
      credentials(ns, systemRanch),
      // The bundle is the private CA, which did not sign B's certificate: only the kept default roots did.
      connection(ns, { url: systemRanch.url, caBundle: privateCa.cert }),
      JSON.parse(apiKeyManifest(ns, 'system-root', {})),
    );
    await connectionReady(world.custom, ns, 'True', 'CredentialsValid');
    await waitForCondition(world.custom, ns, 'system-root', 'Ready', 'True', undefined, 60_000);
    expect(tunnelsTo(systemRanch.url).length).toBeGreaterThan(0);
  });

  it('C: plain http as absolute-URI requests, and an environment schemas URL makes environment keys', async () => {
    const ns = world.namespaces[2] ?? '';
    const from = proxy.seen.length; // the proxy is shared: count only what this test's connection sends
    const url = `${envRanch.url}/v2-beta/projects/1a5/schemas`;
    // kubectl apply refuses the URL with the default version v1, naming the fix.
    const refused = await kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(connection(ns, { url })),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('url is a v2-beta environment URL');
    await apply(
      credentials(ns, envRanch),
      connection(ns, { url, version: 'v2-beta' }),
      JSON.parse(apiKeyManifest(ns, 'env-url', {})),
      JSON.parse(apiKeyManifest(ns, 'other-env', { environment: '1a6' })),
    );
    const key = await waitForCondition(world.custom, ns, 'env-url', 'Ready', 'True', undefined, 60_000);
    // The ApiKey names no environment: the URL's environment is used, not the admin account's scope.
    expect(envRanch.keys().find((k) => k.id === key.status?.id)?.accountId).toBe('1a5');
    const other = await waitForCondition(
      world.custom,
      ns,
      'other-env',
      'Ready',
      'False',
      'EnvironmentMismatch',
    );
    expect(other.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(
      'points spec.url at environment 1a5',
    );
    const forwarded = proxy.seen.slice(from).filter((s) => s.startsWith('POST ') || s.startsWith('GET '));
    expect(forwarded).toContain(`POST ${envRanch.url}/v2-beta/projects/1a5/apikeys`);
    // Only C's Rancher speaks plain HTTP through the proxy (A and B tunnel, D is NO_PROXY): list any other line.
    expect(forwarded.filter((s) => !s.includes(envRanch.url))).toEqual([]);
  });

  it('D: a Rancher that NO_PROXY names is called directly', async () => {
    const ns = world.namespaces[3] ?? '';
    await apply(
      credentials(ns, directRanch),
      connection(ns, { url: directRanch.url }),
      JSON.parse(apiKeyManifest(ns, 'direct', {})),
    );
    await waitForCondition(world.custom, ns, 'direct', 'Ready', 'True', undefined, 60_000);
    expect(directRanch.requests().byRoute['POST /apikeys']).toBeGreaterThan(0);
    expect(proxy.seen.filter((s) => s.includes(`:${portOf(directRanch.url)}`))).toEqual([]);
  });

  it('a tenant cannot point caBundleRef at another namespace: the field does not exist and kubectl apply says so', async () => {
    const ns = world.namespaces[0] ?? '';
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(
        connection(ns, {
          url: world.emulator.url,
          caBundleRef: {
            kind: 'ConfigMap',
            name: 'rancher-ca',
            key: 'ca.crt',
            namespace: OPERATOR_NAMESPACE,
          },
        }),
      ),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.caBundleRef.namespace"');
  });

  it('E: a ClusterRancherConnection reads its CA from the operator namespace, never from a tenant namespace', async () => {
    const ns = world.namespaces[4] ?? '';
    const [trusted, foreign] = clusterNames as [string, string];
    const creds = `networks-creds-${suffix}`;
    const ca = `networks-ca-${suffix}`;
    const cluster = (name: string, caNamespace: string) => ({
      apiVersion: 'rancher.keyops.dev/v1alpha1',
      kind: 'ClusterRancherConnection',
      metadata: { name },
      spec: {
        url: world.emulator.url,
        credentialsSecretRef: { name: creds, namespace: OPERATOR_NAMESPACE },
        caBundleRef: { kind: 'Secret', name: ca, key: 'ca.crt', namespace: caNamespace },
        allowedNamespaces: { names: [ns] },
        allowAccountKeys: true,
      },
    });
    const caSecret = (namespace: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: ca, namespace },
      stringData: { 'ca.crt': privateCa.cert },
    });
    await apply(
      {
        ...credentials(OPERATOR_NAMESPACE, world.emulator),
        metadata: { name: creds, namespace: OPERATOR_NAMESPACE },
      },
      caSecret(OPERATOR_NAMESPACE),
      // The tenant's namespace holds a CA too: the foreign connection must not use it.
      caSecret(ns),
      cluster(trusted, OPERATOR_NAMESPACE),
      cluster(foreign, ns),
      JSON.parse(
        apiKeyManifest(ns, 'cluster-ca', {
          connectionRef: { kind: 'ClusterRancherConnection', name: trusted },
        }),
      ),
      JSON.parse(
        apiKeyManifest(ns, 'foreign-ca', {
          connectionRef: { kind: 'ClusterRancherConnection', name: foreign },
        }),
      ),
    );
    await waitForCondition(world.custom, ns, 'cluster-ca', 'Ready', 'True', undefined, 60_000);
    const refused = await waitForCondition(
      world.custom,
      ns,
      'foreign-ca',
      'Ready',
      'False',
      'CABundleNamespaceNotAllowed',
    );
    expect(refused.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(
      `must live in the operator namespace ${OPERATOR_NAMESPACE}`,
    );
    // Rancher names keys after their ApiKey: the trusted one is there, the refused one never arrived.
    expect(world.emulator.keys().some((k) => k.name === 'cluster-ca')).toBe(true);
    expect(world.emulator.keys().filter((k) => k.name === 'foreign-ca')).toEqual([]);
  });

  it('kubectl explain documents caBundleRef on both kinds', async () => {
    const ns = await kubectl(['explain', 'rancherconnection.spec.caBundleRef']);
    expect(ns.code, ns.stderr).toBe(0);
    // kubectl wraps the text: compare it with single spaces.
    const text = ns.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('in addition to the system roots and spec.caBundle');
    expect(text).toContain('It is read in the connection’s own namespace');
    const cluster = await kubectl(['explain', 'clusterrancherconnection.spec.caBundleRef.namespace']);
    expect(cluster.code, cluster.stderr).toBe(0);
    expect(cluster.stdout.replace(/\s+/g, ' ')).toContain('It must be the operator namespace');
  });

  it('no credential secret appears in the operator log, whatever went through the proxy', () => {
    const log = world.operator.lines.join('\n');
    for (const rancher of [world.emulator, systemRanch, envRanch, directRanch])
      expect(log).not.toContain(rancher.admin.secretKey);
  });
});
