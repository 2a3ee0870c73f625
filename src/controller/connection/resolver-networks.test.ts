import { describe, expect, it } from 'vitest';
import { KubeError } from '../../kube/errors.ts';
import { caBundleProblem } from './ca-bundle.ts';
import * as fx from './resolver.test-support.ts';

// A self-signed test CA (P-256, CN=test-ca): certificates are only parsed here, never used to connect.
const CA = `
-----BEGIN CERTIFICATE-----
MIIBeTCCAR+gAwIBAgIUdd+lK9DrfpdTYdcuWr8OrauMgZ4wCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAeFw0yNjEyMDMwOTI4MjVaFw0zNjExMzAwOTI4
MjVaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQtPKXdR3+k39tJfxU5y8qNlZxRYGKD3fkueE9aBmZBXE5/VT9O6CNxDuH9h4uj
be8If6UiKQqul6JX232GiRp8o1MwUTAdBgNVHQ4EFgQUHUrOwMP+88dZtKg54Obr
ZMQK8sAwHwYDVR0jBBgwFoAUHUrOwMP+88dZtKg54ObrZMQK8sAwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBQP82zeN63gwywlNha2PD0xPuLGq54
VhCm9Wn///ixTQIhAPwtR4H/n0i+gXnOHvCZPEUhePL+Pdz4GrNQjtEP1MBZ
-----END CERTIFICATE-----
`;
const OTHER_CA = CA.trim();

const withRef = (caBundleRef: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
  const c = fx.namespaced();
  return { ...c, spec: { ...c.spec, caBundleRef, ...extra } };
};
const configMap = (ns: string, data: Record<string, string>) => ({
  metadata: { name: 'ca', namespace: ns },
  data,
});

describe('caBundleProblem', () => {
  it.each([
    ['not PEM', 'hello', 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    [
      'a broken certificate',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      'certificate 1 of 1 does not parse',
    ],
    ['too large', `${CA}\n${'#'.repeat(300 * 1024)}`, 'it is larger than 256 KiB'],
  ])('%s is refused', (_name, text, problem) => {
    expect(caBundleProblem(text)).toBe(problem);
  });

  it('one or more certificates pass, with text around them', () => {
    expect(caBundleProblem(`# corp CA\n${CA}\n${OTHER_CA}`)).toBeUndefined();
  });
});

describe('spec.caBundleRef', () => {
  it('a ConfigMap key in the connection namespace is trusted together with spec.caBundle', async () => {
    const { f, resolver } = fx.setup({
      connections: {
        'team-b/rancher': withRef({ kind: 'ConfigMap', name: 'ca', key: 'ca.crt' }, { caBundle: CA }),
      },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    f.configMaps.set('team-b/ca', configMap('team-b', { 'ca.crt': OTHER_CA }));
    expect((await resolver.resolve(fx.nsRef)).view.ok).toBe(true);
    expect(f.made[0]?.caBundle).toBe(`${CA}\n${OTHER_CA}`);
  });

  it('a Secret key works too (data is base64)', async () => {
    const { f, resolver } = fx.setup({
      connections: { 'team-b/rancher': withRef({ kind: 'Secret', name: 'ca-secret', key: 'ca.crt' }) },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    f.secrets.set('team-b/ca-secret', { metadata: { name: 'ca-secret' }, data: { 'ca.crt': fx.b64(CA) } });
    expect((await resolver.resolve(fx.nsRef)).view.ok).toBe(true);
    expect(f.made[0]?.caBundle).toBe(CA);
  });

  it('a namespaced connection never reads another namespace: a smuggled namespace field is ignored', async () => {
    const { f, resolver } = fx.setup({
      connections: {
        'team-b/rancher': withRef({
          kind: 'ConfigMap',
          name: 'ca',
          key: 'ca.crt',
          namespace: fx.OPERATOR_NS,
        }),
      },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    f.configMaps.set(`${fx.OPERATOR_NS}/ca`, configMap(fx.OPERATOR_NS, { 'ca.crt': CA }));
    expect(fx.refusal(await resolver.resolve(fx.nsRef))).toMatchObject({
      reason: 'CABundleNotFound',
      message: 'ConfigMap team-b/ca named by spec.caBundleRef not found',
      terminal: false,
    });
    expect(f.made).toEqual([]);
  });

  it('a missing key or a text that is not PEM are clear, not terminal, and never quote the text', async () => {
    const { f, resolver } = fx.setup({
      connections: { 'team-b/rancher': withRef({ kind: 'ConfigMap', name: 'ca', key: 'ca.crt' }) },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    f.configMaps.set('team-b/ca', configMap('team-b', { other: CA }));
    expect(fx.refusal(await resolver.resolve(fx.nsRef))).toMatchObject({
      reason: 'CABundleNotFound',
      message: 'ConfigMap team-b/ca has no key ca.crt (spec.caBundleRef.key)',
      terminal: false,
    });
    f.configMaps.set('team-b/ca', configMap('team-b', { 'ca.crt': 'sk-SECRET-LOOKING-TEXT' }));
    f.clock.t += 5_000;
    const bad = fx.refusal(await resolver.resolve(fx.nsRef));
    expect(bad).toMatchObject({ reason: 'CABundleInvalid', terminal: false });
    expect(bad?.message).toBe(
      'key ca.crt of ConfigMap team-b/ca is not a PEM CA bundle: it holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    );
    expect(JSON.stringify(bad)).not.toContain('SECRET-LOOKING');
    expect(f.made).toEqual([]);
  });

  it('is read again after the cache time: a fixed CA is used without a change to the connection', async () => {
    const { f, resolver } = fx.setup({
      connections: { 'team-b/rancher': withRef({ kind: 'ConfigMap', name: 'ca', key: 'ca.crt' }) },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    expect(fx.refusal(await resolver.resolve(fx.nsRef))?.reason).toBe('CABundleNotFound');
    f.configMaps.set('team-b/ca', configMap('team-b', { 'ca.crt': CA }));
    expect(fx.refusal(await resolver.resolve(fx.nsRef))?.reason).toBe('CABundleNotFound');
    expect(f.configMapReads).toBe(1);
    f.clock.t += 5_000;
    expect((await resolver.resolve(fx.nsRef)).view.ok).toBe(true);
    expect(f.configMapReads).toBe(2);
    expect(f.made[0]?.caBundle).toBe(CA);
  });

  it('a read that fails (RBAC) is CABundleUnreadable with the status, not an exception', async () => {
    const { f, resolver } = fx.setup({
      connections: { 'team-b/rancher': withRef({ kind: 'ConfigMap', name: 'ca', key: 'ca.crt' }) },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    f.configMaps.get = () => {
      throw new KubeError('read ConfigMap team-b/ca', { code: 403 });
    };
    expect(fx.refusal(await resolver.resolve(fx.nsRef))).toMatchObject({
      reason: 'CABundleUnreadable',
      message: 'cannot read ConfigMap team-b/ca named by spec.caBundleRef (HTTP 403)',
      terminal: false,
    });
  });

  it('an inline spec.caBundle that is not PEM is a terminal CABundleInvalid', async () => {
    const c = fx.namespaced();
    const { f, resolver } = fx.setup({
      connections: { 'team-b/rancher': { ...c, spec: { ...c.spec, caBundle: 'x' } } },
    });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    expect(fx.refusal(await resolver.resolve(fx.nsRef))).toMatchObject({
      reason: 'CABundleInvalid',
      terminal: true,
    });
  });

  it('a cluster connection reads its CA only from the operator namespace', async () => {
    const ref = (namespace: string) => ({ kind: 'ConfigMap', name: 'ca', key: 'ca.crt', namespace });
    const { f, resolver } = fx.setup({
      clusterConnections: { shared: fx.cluster({ allowAccountKeys: true, caBundleRef: ref('team-b') }) },
    });
    f.secrets.set(`${fx.OPERATOR_NS}/creds`, fx.creds(fx.OPERATOR_NS));
    expect(fx.refusal(await resolver.resolve(fx.clusterRef()))).toMatchObject({
      reason: 'CABundleNamespaceNotAllowed',
      terminal: true,
    });
    expect(f.configMapReads).toBe(0);
    const ok = fx.setup({
      clusterConnections: {
        shared: fx.cluster({ allowAccountKeys: true, caBundleRef: ref(fx.OPERATOR_NS) }),
      },
    });
    ok.f.secrets.set(`${fx.OPERATOR_NS}/creds`, fx.creds(fx.OPERATOR_NS));
    ok.f.configMaps.set(`${fx.OPERATOR_NS}/ca`, configMap(fx.OPERATOR_NS, { 'ca.crt': CA }));
    expect((await ok.resolver.resolve(fx.clusterRef())).view.ok).toBe(true);
    expect(ok.f.made[0]?.caBundle).toBe(CA);
  });
});

describe('an environment URL (…/v2-beta/projects/1a5[/schemas])', () => {
  const envUrl = 'https://rancher.example.com/v2-beta/projects/1a5/schemas';
  const envConnection = (version = 'v2-beta') => {
    const c = fx.namespaced(envUrl);
    return { ...c, spec: { ...c.spec, version } };
  };

  it('serves ApiKeys of its environment or without one, and refuses another environment', async () => {
    const { f, resolver } = fx.setup({ connections: { 'team-b/rancher': envConnection() } });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    expect((await resolver.resolve(fx.nsRef)).view.ok).toBe(true);
    expect((await resolver.resolve({ ...fx.nsRef, environment: '1a5' })).view.ok).toBe(true);
    expect(fx.refusal(await resolver.resolve({ ...fx.nsRef, environment: '1a7' }))).toMatchObject({
      reason: 'EnvironmentMismatch',
      message:
        'RancherConnection team-b/rancher points spec.url at environment 1a5, so it cannot serve an ApiKey for ' +
        'environment 1a7: drop spec.environment, set it to 1a5, or use another connection',
      terminal: true,
    });
    expect(f.made[0]?.url).toBe(envUrl);
  });

  it('whose version is not spec.version is refused, naming the fix', async () => {
    const { f, resolver } = fx.setup({ connections: { 'team-b/rancher': envConnection('v1') } });
    f.secrets.set('team-b/creds', fx.creds('team-b'));
    expect(fx.refusal(await resolver.resolve(fx.nsRef))).toMatchObject({
      reason: 'VersionMismatch',
      message:
        'RancherConnection team-b/rancher has a spec.url in API version v2-beta but spec.version v1: set spec.version: v2-beta',
    });
  });

  it('makes an ApiKey without spec.environment an environment key for a cluster connection’s policy', async () => {
    const spec = (allowedEnvironments: string[]) => ({
      url: envUrl,
      version: 'v2-beta',
      allowedEnvironments,
    });
    const allowed = fx.setup({ clusterConnections: { shared: fx.cluster(spec(['1a5'])) } });
    allowed.f.secrets.set(`${fx.OPERATOR_NS}/creds`, fx.creds(fx.OPERATOR_NS));
    expect((await allowed.resolver.resolve(fx.clusterRef())).view.ok).toBe(true);
    const other = fx.setup({
      clusterConnections: { shared: fx.cluster({ ...spec(['1a6']), allowAccountKeys: true }) },
    });
    other.f.secrets.set(`${fx.OPERATOR_NS}/creds`, fx.creds(fx.OPERATOR_NS));
    expect(fx.refusal(await other.resolver.resolve(fx.clusterRef()))?.reason).toBe('EnvironmentNotAllowed');
  });
});
