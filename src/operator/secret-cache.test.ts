import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../api/apikey.ts';
import { ApiKeySchema } from '../api/apikey.ts';
import {
  buildSecret,
  buildStagingSecret,
  viewSecret,
  viewStaging,
} from '../controller/apikey/secret-data.ts';
import { CACHE_STRIPPED, cacheableSecret, MAX_CACHED_SECRET_BYTES } from './secret-cache.ts';

const apiKey: ApiKey = ApiKeySchema.parse({
  apiVersion: 'rancher.keyops.dev/v1alpha1',
  kind: 'ApiKey',
  metadata: { name: 'ci', namespace: 'team-a', uid: 'uid-1', generation: 1 },
  spec: { connectionRef: { name: 'rancher' }, secret: { annotations: { team: 'a' } } },
});
const pair = { publicValue: 'AAAAAAAAAAAAAAAAAAAA', secretValue: 'S'.repeat(40) };
const url = 'https://rancher.example.com';
const live = (s: V1Secret): V1Secret => ({
  ...s,
  metadata: {
    ...s.metadata,
    uid: 'secret-uid',
    resourceVersion: '7',
    managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { big: 'x'.repeat(10_000) } }],
    finalizers: ['example.com/hold'],
  },
});
const cached = (s: V1Secret): V1Secret => cacheableSecret(s as KubernetesObject) as V1Secret;

describe('cacheableSecret (the Secret informer transform)', () => {
  it('keeps an ApiKey-controlled Secret whole, so steady state needs no live read', () => {
    const c = cached(live(buildSecret(apiKey, url, pair)));
    expect(viewSecret(c, apiKey, url)).toEqual({
      state: 'owned',
      publicValue: pair.publicValue,
      intact: true,
      upToDate: true,
    });
    expect(c.metadata?.annotations?.[CACHE_STRIPPED]).toBeUndefined();
    expect(c.metadata?.managedFields).toBeUndefined();
    expect(c.metadata?.finalizers).toBeUndefined();
    expect(c.metadata?.uid).toBe('secret-uid');
    expect(viewStaging(cached(live(buildStagingSecret(apiKey, pair))), apiKey)).toEqual({
      state: 'present',
      publicValue: pair.publicValue,
      intact: true,
    });
  });

  it('strips a labelled Secret no ApiKey controls to metadata, which reads as not ours', () => {
    const tenant: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'bulk-1',
        namespace: 'team-b',
        uid: 'u',
        resourceVersion: '9',
        labels: { 'app.kubernetes.io/managed-by': 'rancher-apikey-operator', filler: 'y'.repeat(63) },
        annotations: { 'rancher.keyops.dev/public-value': pair.publicValue, note: 'z'.repeat(100_000) },
      },
      data: { blob: 'x'.repeat(900 * 1024) },
    };
    const c = cached(tenant);
    expect(c.data).toBeUndefined();
    expect(c.metadata).toEqual({
      name: 'bulk-1',
      namespace: 'team-b',
      uid: 'u',
      resourceVersion: '9',
      labels: { 'app.kubernetes.io/managed-by': 'rancher-apikey-operator' },
      annotations: { [CACHE_STRIPPED]: 'true' },
    });
    expect(JSON.stringify(c).length).toBeLessThan(1_000);
    expect(viewSecret(c, apiKey, url).state).toBe('foreign');
  });

  it('strips an ApiKey-controlled Secret that is too large: it reads as owned but not intact (a live read follows)', () => {
    const s = live(buildSecret(apiKey, url, pair));
    const big = { ...s, data: { ...s.data, extra: 'x'.repeat(MAX_CACHED_SECRET_BYTES) } };
    const c = cached(big);
    expect(c.data).toBeUndefined();
    expect(c.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ApiKey',
      uid: 'uid-1',
      controller: true,
    });
    expect(viewSecret(c, apiKey, url)).toEqual({
      state: 'owned',
      publicValue: undefined,
      intact: false,
      upToDate: false,
    });
    const staging = live(buildStagingSecret(apiKey, pair));
    const bigStaging = cached({
      ...staging,
      data: { ...staging.data, pad: 'x'.repeat(MAX_CACHED_SECRET_BYTES) },
    });
    expect(viewStaging(bigStaging, apiKey)).toEqual({
      state: 'present',
      publicValue: undefined,
      intact: false,
    });
  });

  it('never keeps data for an owner reference of another kind or group', () => {
    const s = live(buildSecret(apiKey, url, pair));
    const ref = s.metadata?.ownerReferences?.[0];
    for (const other of [
      { ...ref, kind: 'Deployment', apiVersion: 'apps/v1' },
      { ...ref, apiVersion: 'evil.example.com/v1' },
      { ...ref, controller: false },
    ]) {
      const c = cached({ ...s, metadata: { ...s.metadata, ownerReferences: [other as never] } });
      expect(c.data).toBeUndefined();
    }
  });

  it('is idempotent, and a live Secret that carries the stripped marker is stripped too', () => {
    const s = live(buildSecret(apiKey, url, pair));
    const once = cached(s);
    expect(cached(once)).toEqual(once);
    const tenantMarked = { ...s, metadata: { ...s.metadata, annotations: { [CACHE_STRIPPED]: 'false' } } };
    expect(cached(tenantMarked).data).toBeUndefined();
    const stripped = cached({ ...s, data: { pad: 'x'.repeat(MAX_CACHED_SECRET_BYTES + 1) } });
    expect(cached(stripped)).toEqual(stripped);
  });
});
