import { describe, expect, it } from 'vitest';
import { type ApiKey, ApiKeySchema } from '../../api/apikey.ts';
import { apiKeyObject } from '../fakes.test-support.ts';
import { createUnreadSecrets } from './unread-secrets.ts';

const apiKey = (over: Parameters<typeof apiKeyObject>[0] = {}): ApiKey =>
  ApiKeySchema.parse(apiKeyObject({ ...over, metadata: { finalizers: [], ...over.metadata } }));

describe('unread Secrets: when a pass may take "absent" from the labelled cache', () => {
  it('only for a brand-new ApiKey whose credentials supply the values', () => {
    const u = createUnreadSecrets();
    expect(u.mayTrustCache(apiKey(), true)).toBe(true);
    // Rancher generates the values: the key would exist before the Secret create could fail.
    expect(u.mayTrustCache(apiKey(), false)).toBe(false);
    // It already reached Rancher (finalizer, a key in status, keys being retired).
    expect(
      u.mayTrustCache(apiKey({ metadata: { finalizers: ['rancher.keyops.dev/finalizer'] } }), true),
    ).toBe(false);
    expect(u.mayTrustCache(apiKey({ status: { id: '1c9' } }), true)).toBe(false);
    expect(
      u.mayTrustCache(
        apiKey({ status: { retiring: [{ id: '1c9', publicValue: 'ABC', reason: 'Rotated' }] } }),
        true,
      ),
    ).toBe(false);
    // A pass already reported on it (a failure, a conflict): later passes read the Secret live.
    const failed = {
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'SecretConflict',
          message: 'taken',
          lastTransitionTime: '2026-12-03T00:00:00Z',
        },
      ],
    };
    expect(u.mayTrustCache(apiKey({ status: failed }), true)).toBe(false);
    expect(u.mayTrustCache(apiKey({ status: { shard: 'shard-a' } }), true)).toBe(true);
    // Plan mode reports what would happen (a conflict included); adoption writes a Secret of another kind.
    expect(u.mayTrustCache(apiKey({ spec: { mode: 'Plan' } }), true)).toBe(false);
    const adopt = { publicValue: 'ABC123', secretValueFrom: { name: 'old-key' } };
    expect(u.mayTrustCache(apiKey({ spec: { adopt } }), true)).toBe(false);
  });

  it('after a create met an existing Secret, the next pass of that ApiKey reads it live (once)', () => {
    const u = createUnreadSecrets();
    const k = apiKey();
    u.createConflicted(k.metadata.uid);
    expect(u.mayTrustCache(k, true)).toBe(false);
    expect(u.mayTrustCache(k, true)).toBe(true);
  });

  it('remembers a bounded number of ApiKeys: past the bound it starts over', () => {
    const u = createUnreadSecrets(2);
    const [a, b, c] = ['a', 'b', 'c'].map((uid) => apiKey({ metadata: { uid } })) as [ApiKey, ApiKey, ApiKey];
    u.createConflicted(a.metadata.uid);
    u.createConflicted(b.metadata.uid);
    u.createConflicted(c.metadata.uid);
    expect([a, b, c].map((k) => u.mayTrustCache(k, true))).toEqual([true, true, false]);
  });
});
