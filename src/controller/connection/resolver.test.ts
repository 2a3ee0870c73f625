import { describe, expect, it } from 'vitest';
import { ApiKeySchema } from '../../api/apikey.ts';
import {
  b64,
  cluster,
  clusterRef,
  creds,
  namespaced,
  nsRef,
  OPERATOR_NS,
  refusal,
  setup,
} from './resolver.test-support.ts';

describe('ClusterRancherConnection environment policy', () => {
  it('refuses an environment that is not listed, naming the field, before reading credentials', async () => {
    const { f, resolver } = setup({
      clusterConnections: { shared: cluster({ allowedEnvironments: ['1a5'] }) },
    });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    const r = refusal(await resolver.resolve(clusterRef('1a6')));
    expect(r).toMatchObject({ reason: 'EnvironmentNotAllowed', terminal: true });
    expect(r?.message).toContain('spec.allowedEnvironments');
    expect(f.reads).toBe(0);
    expect(f.made).toEqual([]);
  });

  it('refuses an account key unless allowAccountKeys, and lets a listed environment through', async () => {
    const { f, resolver } = setup({
      clusterConnections: { shared: cluster({ allowedEnvironments: ['1a5'] }) },
    });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    const r = refusal(await resolver.resolve(clusterRef()));
    expect(r).toMatchObject({ reason: 'AccountKeysNotAllowed', terminal: true });
    expect(r?.message).toContain('spec.allowAccountKeys');
    expect((await resolver.resolve(clusterRef('1a5'))).view.ok).toBe(true);
  });

  it('with CLUSTER_CONNECTIONS=false a cluster connection is refused for good, naming the remedy; namespaced ones work', async () => {
    const spec = { allowedEnvironments: ['*'], allowAccountKeys: true };
    const { f, resolver } = setup({
      clusterConnections: { shared: cluster(spec) },
      connections: { 'team-b/rancher': namespaced() },
      clusterConnectionsEnabled: false,
    });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    f.secrets.set('team-b/creds', creds('team-b'));
    const r = refusal(await resolver.resolve(clusterRef('1a5')));
    expect(r).toMatchObject({ reason: 'ClusterConnectionsDisabled', terminal: true });
    expect(r?.message).toContain('use a RancherConnection in namespace team-b');
    expect(f.reads).toBe(0);
    expect((await resolver.resolve(nsRef)).view.ok).toBe(true);
  });

  it('allows account keys and any environment when told so', async () => {
    const spec = { allowedEnvironments: ['*'], allowAccountKeys: true };
    const { f, resolver } = setup({ clusterConnections: { shared: cluster(spec) } });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    expect((await resolver.resolve(clusterRef())).view.ok).toBe(true);
    expect((await resolver.resolve(clusterRef('1a77'))).view.ok).toBe(true);
  });

  it('the connection controller (anyNamespace) is not refused by the policy', async () => {
    const { f, resolver } = setup({ clusterConnections: { shared: cluster() } });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    const r = await resolver.resolve(
      { kind: 'ClusterRancherConnection', name: 'shared', namespace: '' },
      { anyNamespace: true },
    );
    expect(r.view.ok).toBe(true);
  });

  it('a namespaced RancherConnection mints account keys as before (the tenant owns its credentials)', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    expect((await resolver.resolve(nsRef)).view.ok).toBe(true);
  });

  it('a deletion never borrows the verdict of another environment', async () => {
    const { f, resolver } = setup({
      clusterConnections: { shared: cluster({ allowedEnvironments: ['1a5'] }) },
    });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    expect((await resolver.resolve(clusterRef('1a5'))).view.ok).toBe(true);
    expect((await resolver.resolve(clusterRef('1a5'), { forDeletion: true })).view.ok).toBe(true);
    const r = refusal(await resolver.resolve(clusterRef('1a6'), { forDeletion: true }));
    expect(r?.reason).toBe('EnvironmentNotAllowed');
  });

  it('refFor carries the ApiKey environment', () => {
    const { resolver } = setup({});
    const apiKey = ApiKeySchema.parse({
      metadata: { name: 'k', namespace: 'team-b', uid: 'u1', generation: 1 },
      spec: { connectionRef: { kind: 'ClusterRancherConnection', name: 'shared' }, environment: '1a5' },
    });
    expect(resolver.refFor(apiKey)).toEqual({ ...clusterRef('1a5') });
  });
});

describe('credentials Secret policy', () => {
  it('refuses a ServiceAccount token before any Rancher call, without its values in the message', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b', { type: 'kubernetes.io/service-account-token' }));
    const r = refusal(await resolver.resolve(nsRef));
    expect(r).toMatchObject({ reason: 'CredentialsSecretRefused', terminal: true });
    expect(r?.message).not.toMatch(/AK-1|SK-SECRET-1/);
    expect(f.made).toEqual([]);
    expect(f.identityCalls).toBe(0);
  });

  it('with CREDENTIALS_OPT_IN=required, only a labelled Secret is used', async () => {
    const { f, resolver } = setup({
      connections: { 'team-b/rancher': namespaced() },
      credentialsOptIn: 'required',
    });
    f.secrets.set('team-b/creds', creds('team-b'));
    expect(refusal(await resolver.resolve(nsRef))?.reason).toBe('CredentialsSecretRefused');
    f.secrets.set(
      'team-b/creds',
      creds('team-b', { metadata: { labels: { 'rancher.keyops.dev/credentials': 'true' } } }),
    );
    f.clock.t += 5_000; // the credentials cache expires
    expect((await resolver.resolve(nsRef)).view.ok).toBe(true);
  });
});

describe('URL rules', () => {
  it('a URL with user info is InvalidURL, and no client is built', async () => {
    const { f, resolver } = setup({
      connections: { 'team-b/rancher': namespaced('http://user:pw@rancher.example.com') },
    });
    f.secrets.set('team-b/creds', creds('team-b'));
    const r = refusal(await resolver.resolve(nsRef));
    expect(r).toMatchObject({ reason: 'InvalidURL', terminal: true });
    expect(r?.message).not.toContain('pw');
    expect(f.made).toEqual([]);
  });

  it('a client that refuses the URL becomes a terminal InvalidURL, not an exception', async () => {
    const { f, resolver } = setup({
      connections: { 'team-b/rancher': namespaced() },
      makeClientThrows: true,
    });
    f.secrets.set('team-b/creds', creds('team-b'));
    expect(refusal(await resolver.resolve(nsRef))).toMatchObject({ reason: 'InvalidURL', terminal: true });
  });

  it('ALLOWED_RANCHER_URLS restricts namespaced connections; cluster connections are exempt', async () => {
    const { f, resolver } = setup({
      connections: { 'team-b/rancher': namespaced('https://evil.example.net') },
      clusterConnections: {
        shared: cluster({ url: 'https://other.example.org', allowedEnvironments: ['*'] }),
      },
      allowedUrls: ['https://rancher.example.com/'],
    });
    f.secrets.set('team-b/creds', creds('team-b'));
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    const r = refusal(await resolver.resolve(nsRef));
    expect(r).toMatchObject({ reason: 'URLNotAllowed', terminal: true });
    expect(r?.message).toContain('https://rancher.example.com/');
    expect(f.reads).toBe(0);
    expect((await resolver.resolve(clusterRef('1a5'))).view.ok).toBe(true);
  });
});

describe('fresh verdicts', () => {
  it('a refusal of verified credentials drops the cached identity and re-queues the connection', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    const first = await resolver.resolve(nsRef);
    expect(first.view.ok).toBe(true);
    expect(f.identityCalls).toBe(1);
    f.clock.t += 2_000;
    f.identityFails = true;
    await expect(first.client?.listKeys({}, {})).rejects.toMatchObject({ code: 'Unauthorized' });
    expect(f.invalidated).toEqual([{ kind: 'RancherConnection', name: 'rancher', namespace: 'team-b' }]);
    const again = refusal(await resolver.resolve(nsRef));
    expect(again).toMatchObject({ reason: 'RancherUnauthorized', terminal: true });
    expect(f.identityCalls).toBe(2);
  });

  it('refusals right after the identity was verified drop it once, a second later (no re-check loop, no lost refusal)', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    const r = await resolver.resolve(nsRef);
    f.clock.t += 300;
    await expect(r.client?.createKey({})).rejects.toMatchObject({ code: 'Unauthorized' });
    await expect(r.client?.listKeys({}, {})).rejects.toMatchObject({ code: 'Unauthorized' });
    expect(f.invalidated).toEqual([]);
    await resolver.resolve(nsRef);
    expect(f.identityCalls).toBe(1);
    expect(f.timers.map((t) => t.ms)).toEqual([700]);

    f.clock.t += 700;
    f.timers[0]?.fn();
    expect(f.invalidated).toEqual([{ kind: 'RancherConnection', name: 'rancher', namespace: 'team-b' }]);
    f.identityFails = true;
    expect(refusal(await resolver.resolve(nsRef))).toMatchObject({ reason: 'RancherUnauthorized' });
    expect(f.identityCalls).toBe(2);
  });

  it('a young refusal answered by a newer identity meanwhile re-queues nothing', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    const r = await resolver.resolve(nsRef);
    await expect(r.client?.createKey({})).rejects.toMatchObject({ code: 'Unauthorized' });
    resolver.invalidate(nsRef);
    await resolver.resolve(nsRef);
    expect(f.identityCalls).toBe(2);
    f.timers[0]?.fn();
    expect(f.invalidated).toEqual([]);
  });

  it('invalidate(ref) makes the next resolve read the Secret and ask Rancher again', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    await resolver.resolve(nsRef);
    resolver.invalidate(nsRef);
    await resolver.resolve(nsRef);
    expect(f.reads).toBe(2);
    expect(f.identityCalls).toBe(2);
  });

  it('fixed credentials are seen within the credentials cache time and re-queue the connection', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b', {}, 'AK-1', 'wrong'));
    f.identityFails = true;
    expect(refusal(await resolver.resolve(nsRef))?.reason).toBe('RancherUnauthorized');
    f.secrets.set('team-b/creds', creds('team-b', {}, 'AK-1', 'right'));
    f.identityFails = false;
    f.clock.t += 5_000;
    expect((await resolver.resolve(nsRef)).view.ok).toBe(true);
    expect(f.invalidated).toEqual([{ kind: 'RancherConnection', name: 'rancher', namespace: 'team-b' }]);
  });
});

describe('namespace and credentials rules of cluster connections', () => {
  it('refuses a namespace that is neither listed nor selected, before reading credentials', async () => {
    const { f, resolver } = setup({
      clusterConnections: { shared: cluster({ allowedEnvironments: ['*'] }) },
    });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    const r = refusal(await resolver.resolve({ ...clusterRef('1a5'), namespace: 'team-c' }));
    expect(r).toMatchObject({ reason: 'NamespaceNotAllowed', terminal: true });
    expect(r?.message).toContain('team-c');
    expect(f.reads).toBe(0);
    expect(f.made).toEqual([]);
  });

  it('lets a namespace in whose labels match allowedNamespaces.selector', async () => {
    const spec = {
      allowedEnvironments: ['*'],
      allowedNamespaces: { selector: { matchLabels: { tier: 'ci' } } },
    };
    const { f, resolver } = setup({
      clusterConnections: { shared: cluster(spec) },
      namespaceLabels: { 'team-c': { tier: 'ci' }, 'team-d': { tier: 'prod' } },
    });
    f.secrets.set(`${OPERATOR_NS}/creds`, creds(OPERATOR_NS));
    expect((await resolver.resolve({ ...clusterRef('1a5'), namespace: 'team-c' })).view.ok).toBe(true);
    const r = refusal(await resolver.resolve({ ...clusterRef('1a5'), namespace: 'team-d' }));
    expect(r?.reason).toBe('NamespaceNotAllowed');
  });

  it('refuses credentials outside the operator namespace: a tenant cannot point a cluster connection at its own Secret', async () => {
    const spec = { allowedEnvironments: ['*'], credentialsSecretRef: { name: 'creds', namespace: 'team-b' } };
    const { f, resolver } = setup({ clusterConnections: { shared: cluster(spec) } });
    f.secrets.set('team-b/creds', creds('team-b'));
    const r = refusal(await resolver.resolve(clusterRef('1a5')));
    expect(r).toMatchObject({ reason: 'CredentialsNamespaceNotAllowed', terminal: true });
    expect(f.reads).toBe(0);
  });
});

describe('missing or broken connections and credentials', () => {
  it('a missing connection or credentials Secret is not terminal (it may appear), a broken one is', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    expect(refusal(await resolver.resolve({ ...nsRef, name: 'nope' }))).toMatchObject({
      reason: 'ConnectionNotFound',
      terminal: false,
    });
    expect(refusal(await resolver.resolve(nsRef))).toMatchObject({
      reason: 'CredentialsNotFound',
      terminal: false,
    });
    f.clock.t += 5_000;
    f.secrets.set('team-b/creds', { ...creds('team-b'), data: { accessKey: b64('AK-1') } });
    const r = refusal(await resolver.resolve(nsRef));
    expect(r).toMatchObject({ reason: 'CredentialsInvalid' });
    expect(r?.message).toContain('secretKey');
    expect(r?.message).not.toContain('AK-1');
    expect(f.identityCalls).toBe(0);
  });

  it('an invalid connection spec is a terminal InvalidConnection', async () => {
    const { resolver } = setup({
      connections: {
        'team-b/rancher': { metadata: { name: 'rancher', namespace: 'team-b', uid: 'c1' }, spec: {} },
      },
    });
    expect(refusal(await resolver.resolve(nsRef))).toMatchObject({
      reason: 'InvalidConnection',
      terminal: true,
    });
  });
});

describe('caching', () => {
  it('caches identities: many passes cost one identity call and one Secret read', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    for (let i = 0; i < 5; i++) {
      f.clock.t += 500;
      expect((await resolver.resolve(nsRef)).view).toMatchObject({ ok: true, accountId: '1a1' });
    }
    expect(f.identityCalls).toBe(1);
    expect(f.reads).toBe(1);
    expect(f.made).toHaveLength(1);
  });

  it('re-reads credentials after their cache time, keeping the client and the identity while they are the same', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    const first = await resolver.resolve(nsRef);
    f.clock.t += 5_000;
    const second = await resolver.resolve(nsRef);
    expect(f.reads).toBe(2);
    expect(second.client).toBe(first.client);
    expect(f.identityCalls).toBe(1);
    f.clock.t += 300_000; // the identity cache time
    await resolver.resolve(nsRef);
    expect(f.identityCalls).toBe(2);
  });

  it('connections that share credentials share one client; new credentials get a new client', async () => {
    const { f, resolver } = setup({
      connections: {
        'team-b/rancher': namespaced(),
        'team-b/other': { ...namespaced(), metadata: { name: 'other', namespace: 'team-b', uid: 'c3' } },
      },
    });
    f.secrets.set('team-b/creds', creds('team-b'));
    const a = await resolver.resolve(nsRef);
    const b = await resolver.resolve({ ...nsRef, name: 'other' });
    expect(b.client).toBe(a.client);
    expect(f.made).toHaveLength(1);
    f.secrets.set('team-b/creds', creds('team-b', {}, 'AK-2', 'SK-SECRET-2'));
    f.clock.t += 5_000;
    const c = await resolver.resolve(nsRef);
    expect(c.client).not.toBe(a.client);
    expect(f.made.map((o) => o.credentials.accessKey)).toEqual(['AK-1', 'AK-2']);
  });

  it('a refused identity is remembered briefly, then asked again', async () => {
    const { f, resolver } = setup({ connections: { 'team-b/rancher': namespaced() } });
    f.secrets.set('team-b/creds', creds('team-b'));
    f.identityFails = true;
    expect(refusal(await resolver.resolve(nsRef))?.reason).toBe('RancherUnauthorized');
    f.clock.t += 1_000;
    expect(refusal(await resolver.resolve(nsRef))?.reason).toBe('RancherUnauthorized');
    expect(f.identityCalls).toBe(1);
    f.identityFails = false;
    f.clock.t += 10_000;
    expect((await resolver.resolve(nsRef)).view.ok).toBe(true);
    expect(f.identityCalls).toBe(2);
  });

  it('a deletion may use the last good client after the connection is gone; a live ApiKey may not', async () => {
    const connections: Record<string, unknown> = { 'team-b/rancher': namespaced() };
    const { f, resolver } = setup({ connections });
    f.secrets.set('team-b/creds', creds('team-b'));
    const good = await resolver.resolve(nsRef);
    delete connections['team-b/rancher'];
    expect(refusal(await resolver.resolve(nsRef))?.reason).toBe('ConnectionNotFound');
    const forDeletion = await resolver.resolve(nsRef, { forDeletion: true });
    expect(forDeletion.view.ok).toBe(true);
    expect(forDeletion.client).toBe(good.client);
  });
});
