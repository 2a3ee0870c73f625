import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { credentialsSecretRefusal, environmentRefusal, urlAllowed, urlRefusal } from './policy.ts';

describe('urlAllowed', () => {
  const prefixes = ['https://rancher.example.com/', 'http://10.0.0.1:8080/rancher'];
  it.each([
    ['the same origin', 'https://rancher.example.com', true],
    ['a path under the origin', 'https://rancher.example.com/sub', true],
    ['a path prefix at a segment boundary', 'http://10.0.0.1:8080/rancher/v1x', true],
    ['the path prefix itself', 'http://10.0.0.1:8080/rancher', true],
    ['a longer path segment', 'http://10.0.0.1:8080/rancherx', false],
    ['a host that only starts like the allowed one', 'https://rancher.example.com.evil.net', false],
    ['another scheme', 'http://rancher.example.com', false],
    ['another port', 'https://rancher.example.com:8443', false],
    ['user info pointing elsewhere', 'https://rancher.example.com@evil.net', false],
    ['an unparsable URL', 'not a url', false],
  ])('%s: %s -> %s', (_name, url, allowed) => {
    expect(urlAllowed(url, prefixes)).toBe(allowed);
  });

  it('an empty allow-list allows any URL', () => {
    expect(urlAllowed('http://anything.example:1234/x', [])).toBe(true);
  });
});

describe('urlRefusal', () => {
  it('refuses user info without repeating the URL', () => {
    const r = urlRefusal('http://user:hunter2@rancher.example.com', 'RancherConnection a/b');
    expect(r?.reason).toBe('InvalidURL');
    expect(r?.message).not.toContain('hunter2');
    expect(r?.message).toContain('user info');
  });

  it('accepts a plain http(s) URL and refuses other schemes', () => {
    expect(urlRefusal('https://rancher.example.com', 'x')).toBeUndefined();
    expect(urlRefusal('ftp://rancher.example.com', 'x')?.reason).toBe('InvalidURL');
  });
});

describe('environmentRefusal', () => {
  const what = 'ClusterRancherConnection shared';
  it('an environment key needs its environment listed', () => {
    const policy = { allowedEnvironments: ['1a5'], allowAccountKeys: false };
    expect(environmentRefusal(policy, '1a5', what)).toBeUndefined();
    const r = environmentRefusal(policy, '1a6', what);
    expect(r?.reason).toBe('EnvironmentNotAllowed');
    expect(r?.message).toContain('spec.allowedEnvironments');
    expect(r?.message).toContain('1a6');
  });

  it('"*" allows any environment; omitted allows none', () => {
    expect(
      environmentRefusal({ allowedEnvironments: ['*'], allowAccountKeys: false }, '1a9', what),
    ).toBeUndefined();
    expect(environmentRefusal({ allowAccountKeys: true }, '1a5', what)?.reason).toBe('EnvironmentNotAllowed');
  });

  it('an account key needs allowAccountKeys, whatever the environments', () => {
    const r = environmentRefusal({ allowedEnvironments: ['*'], allowAccountKeys: false }, undefined, what);
    expect(r?.reason).toBe('AccountKeysNotAllowed');
    expect(r?.message).toContain('spec.allowAccountKeys');
    expect(environmentRefusal({ allowAccountKeys: true }, undefined, what)).toBeUndefined();
  });
});

describe('credentialsSecretRefusal', () => {
  const data = {
    accessKey: Buffer.from('AK-VALUE').toString('base64'),
    secretKey: Buffer.from('SK-VALUE').toString('base64'),
  };
  const secret = (
    s: Partial<V1Secret> & { labels?: Record<string, string>; annotations?: Record<string, string> },
  ) =>
    ({
      metadata: { name: 's', labels: s.labels, annotations: s.annotations },
      type: s.type,
      data,
    }) as V1Secret;
  const label = { 'rancher.keyops.dev/credentials': 'true' };

  it.each([
    [
      'a ServiceAccount token',
      secret({ type: 'kubernetes.io/service-account-token', labels: label }),
      'optional',
      false,
    ],
    [
      'a Secret annotated with a ServiceAccount',
      secret({ type: 'Opaque', annotations: { 'kubernetes.io/service-account.name': 'default' } }),
      'optional',
      false,
    ],
    [
      'another type, even labelled',
      secret({ type: 'kubernetes.io/basic-auth', labels: label }),
      'optional',
      false,
    ],
    ['an unlabelled Opaque Secret while opt-in is optional', secret({ type: 'Opaque' }), 'optional', true],
    ['a Secret without a type (Opaque) while optional', secret({}), 'optional', true],
    ['an unlabelled Opaque Secret while opt-in is required', secret({ type: 'Opaque' }), 'required', false],
    ['a labelled Opaque Secret while required', secret({ type: 'Opaque', labels: label }), 'required', true],
    [
      'a label with another value while required',
      secret({ labels: { 'rancher.keyops.dev/credentials': 'yes' } }),
      'required',
      false,
    ],
    [
      'the credentials type while required',
      secret({ type: 'rancher.keyops.dev/credentials' }),
      'required',
      true,
    ],
  ] as const)('%s: accepted=%s', (_name, s, optIn, accepted) => {
    const r = credentialsSecretRefusal(s, optIn, 'Secret team-b/s');
    expect(r === undefined).toBe(accepted);
    if (r) {
      expect(r.reason).toBe('CredentialsSecretRefused');
      expect(r.message).toContain('rancher.keyops.dev/credentials');
      expect(r.message).not.toMatch(/AK-VALUE|SK-VALUE/);
    }
  });
});
