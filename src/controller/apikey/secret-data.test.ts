import { describe, expect, it } from 'vitest';
import { type ApiKey, ApiKeySpecSchema } from '../../api/apikey.ts';
import { buildSecret, desiredData, labelValue, readPair, viewSecret } from './secret-data.ts';

const apiKey = (spec: object = {}): ApiKey => ({
  metadata: { name: 'ci', namespace: 'team-a', uid: 'uid-1' },
  spec: ApiKeySpecSchema.parse({ connectionRef: { name: 'r' }, ...spec }),
});
const pair = { publicValue: 'PUB0000000000000000A', secretValue: 'sEcReT'.repeat(6) };
const decode = (d: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(d ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('Secret output', () => {
  it('an ApiKey name longer than a label value allows still yields a valid, unique label', () => {
    const long = 'a'.repeat(200);
    const v = labelValue(long);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(labelValue(`${'a'.repeat(199)}b`)).not.toBe(v);
    expect(labelValue('short')).toBe('short');
  });

  it('writes both values and the URL in one data map under the default keys', () => {
    expect(decode(desiredData(apiKey(), 'https://r', pair))).toEqual({
      publicValue: pair.publicValue,
      secretValue: pair.secretValue,
      url: 'https://r',
    });
  });

  it('the RancherEnv preset uses the rancher CLI environment names', () => {
    const data = decode(desiredData(apiKey({ secret: { preset: 'RancherEnv' } }), 'https://r', pair));
    expect(Object.keys(data).sort()).toEqual(['RANCHER_ACCESS_KEY', 'RANCHER_SECRET_KEY', 'RANCHER_URL']);
  });

  it('custom data keys are honoured', () => {
    const k = apiKey({ secret: { keys: { publicValue: 'ak', secretValue: 'sk', url: 'u' } } });
    expect(Object.keys(desiredData(k, 'x', pair)).sort()).toEqual(['ak', 'sk', 'u']);
  });

  it('the Secret is controller-owned by the ApiKey and carries no secret outside data', () => {
    const s = buildSecret(apiKey({ secret: { labels: { team: 'a' } } }), 'https://r', pair);
    expect(s.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ApiKey',
      uid: 'uid-1',
      controller: true,
    });
    expect(s.metadata?.labels?.team).toBe('a');
    const outsideData = JSON.stringify({ ...s, data: undefined });
    expect(outsideData).not.toContain(pair.secretValue);
    expect(outsideData).not.toContain(Buffer.from(pair.secretValue).toString('base64'));
  });

  it('a Secret we wrote is owned, intact and up to date', () => {
    const k = apiKey();
    expect(viewSecret(buildSecret(k, 'https://r', pair), k, 'https://r')).toEqual({
      state: 'owned',
      publicValue: pair.publicValue,
      intact: true,
      upToDate: true,
    });
  });

  it('a Secret without our controller reference is foreign and names its owner', () => {
    const s = buildSecret(apiKey(), 'u', pair);
    s.metadata = {
      ...s.metadata,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'x', controller: true },
      ],
    };
    expect(viewSecret(s, apiKey(), 'u')).toEqual({ state: 'foreign', owner: 'Deployment/web' });
  });

  it('a changed URL or extra data key is not up to date but still intact (restorable)', () => {
    const k = apiKey();
    const s = buildSecret(k, 'https://r', pair);
    s.data = { ...s.data, extra: 'eA==' };
    expect(viewSecret(s, k, 'https://r')).toMatchObject({ intact: true, upToDate: false });
    expect(viewSecret(buildSecret(k, 'https://old', pair), k, 'https://r')).toMatchObject({
      intact: true,
      upToDate: false,
    });
  });

  it('a tampered secret value is detected through the digest and the pair is unreadable', () => {
    const k = apiKey();
    const s = buildSecret(k, 'https://r', pair);
    s.data = { ...s.data, secretValue: Buffer.from('forged').toString('base64') };
    expect(readPair(s)).toBeUndefined();
    expect(viewSecret(s, k, 'https://r')).toMatchObject({ state: 'owned', intact: false });
  });

  it('renamed data keys still find the pair, so the Secret can be rewritten without a new key', () => {
    const before = buildSecret(apiKey(), 'u', pair);
    const after = apiKey({ secret: { keys: { publicValue: 'ak', secretValue: 'sk', url: 'u' } } });
    expect(readPair(before)).toEqual(pair);
    expect(viewSecret(before, after, 'u')).toMatchObject({ intact: true, upToDate: false });
  });
});
