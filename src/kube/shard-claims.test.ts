import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeApis } from './client.ts';
import { ClaimNotStoredError, createShardClaims } from './shard-claims.ts';

const apiKey = (name: string, shard?: string) => ({
  metadata: { name, namespace: 'team', uid: `uid-${name}`, resourceVersion: '7', labels: { shard: 'a' } },
  ...(shard === undefined ? {} : { status: { shard } }),
});

/** fakeApis answers the CustomObjects calls the claims make; `patch` decides what a status patch returns. */
function fakeApis(patch: (body: unknown) => unknown, pages: unknown[][] = []) {
  const bodies: unknown[] = [];
  const lists: (string | undefined)[] = [];
  const custom = {
    patchNamespacedCustomObjectStatus: async (req: { body: unknown }) => {
      bodies.push(req.body);
      return patch(req.body);
    },
    listClusterCustomObject: async (req: { _continue?: string }) => {
      lists.push(req._continue);
      const page = Number(req._continue ?? 0);
      const next = page + 1 < pages.length ? String(page + 1) : undefined;
      return { items: pages[page] ?? [], metadata: next ? { continue: next } : {} };
    },
  };
  // Only the members the claims use; the rest of KubeApis is never touched.
  const apis = { custom, options: {}, mergePatch: {} } as unknown as KubeApis;
  return { apis, bodies, lists };
}

describe('createShardClaims', () => {
  it('claims with the resourceVersion precondition and clears a claim with null', async () => {
    const f = fakeApis((body) => ({ ...apiKey('k'), status: (body as { status: unknown }).status }));
    const claims = createShardClaims(f.apis);
    expect(await claims.set('team', 'k', 'shard-a', '7')).toBe(true);
    expect(await claims.set('team', 'k', '', '8')).toBe(true);
    expect(f.bodies).toEqual([
      { metadata: { resourceVersion: '7' }, status: { shard: 'shard-a' } },
      { metadata: { resourceVersion: '8' }, status: { shard: null } },
    ]);
  });

  it('answers false when the ApiKey changed (409) or is gone (404)', async () => {
    for (const code of [409, 404]) {
      const f = fakeApis(() => {
        throw new ApiException(code, 'x', '{}', {});
      });
      expect(await createShardClaims(f.apis).set('team', 'k', 'shard-a', '7')).toBe(false);
    }
  });

  it('refuses to go on when the CRD prunes status.shard (an old CRD): claiming again would loop', async () => {
    const f = fakeApis(() => apiKey('k'));
    await expect(createShardClaims(f.apis).set('team', 'k', 'shard-a', '7')).rejects.toBeInstanceOf(
      ClaimNotStoredError,
    );
  });

  it('lists every page: the claims of a shard and the uids of every ApiKey', async () => {
    const pages = [
      [apiKey('a', 's1'), apiKey('b')],
      [apiKey('c', 's1'), apiKey('d', 's2')],
    ];
    const f = fakeApis(() => undefined, pages);
    const claims = createShardClaims(f.apis);
    expect((await claims.claimedBy('s1', [])).map((c) => c.name)).toEqual(['a', 'c']);
    expect([...(await claims.uids([]))]).toEqual(['uid-a', 'uid-b', 'uid-c', 'uid-d']);
    expect(f.lists).toEqual([undefined, '1', undefined, '1']);
  });
});
