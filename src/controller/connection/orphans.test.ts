import { describe, expect, it } from 'vitest';
import { ApiKeySchema } from '../../api/apikey.ts';
import { apiKeyObject, FakeRancher } from '../fakes.test-support.ts';
import { rancherDescription } from '../marker.ts';
import { cleanOrphans, findOrphans, isLiveOrphan } from './orphans.ts';

const GONE = 'dddddddd-0000-4000-8000-00000000dead';
const LIVE = 'aaaaaaaa-0000-4000-8000-000000000001';

/** markerOf is the description the operator wrote for an ApiKey `namespace/name` with that uid. */
const markerOf = (uid: string, name = 'ci', namespace = 'team-a', text?: string) =>
  rancherDescription(
    ApiKeySchema.parse(
      apiKeyObject({ metadata: { uid, name, namespace }, spec: text ? { description: text } : {} }),
    ),
  );

const conn = { kind: 'RancherConnection', name: 'rancher', namespace: 'team-a' };
const liveApiKey = apiKeyObject({ metadata: { uid: LIVE } }) as { metadata: { uid: string } };
const scope = { apiKeys: [liveApiKey], watchNamespaces: [] as string[] };

describe('findOrphans', () => {
  it('lists only keys whose trailing marker names an ApiKey that no longer exists', async () => {
    const rancher = new FakeRancher();
    const orphan = rancher.seed({ description: markerOf(GONE, 'old', 'team-a', 'deploy key') });
    rancher.seed({ description: markerOf(LIVE) }); // its ApiKey exists
    rancher.seed({ description: `${markerOf(GONE, 'old')} pasted into a user's own text` });
    rancher.seed({ description: 'a key someone made by hand' });
    rancher.seed({ description: null });
    const found = await findOrphans(rancher, conn, scope, []);
    expect(found).toEqual([{ key: expect.objectContaining({ id: orphan.id }), apiKey: 'team-a/old' }]);
    expect(rancher.calls.find((c) => c.method === 'listKeys')?.filters).toEqual({
      description_like: '%apikey-uid:%',
    });
  });

  it('a namespaced connection never reports keys of ApiKeys from another namespace', async () => {
    const rancher = new FakeRancher();
    rancher.seed({ description: markerOf(GONE, 'x', 'team-b') });
    expect(await findOrphans(rancher, conn, scope, [])).toEqual([]);
    const cluster = { kind: 'ClusterRancherConnection', name: 'shared', namespace: '' };
    expect(await findOrphans(rancher, cluster, scope, [])).toHaveLength(1);
  });

  it("never counts a key whose ApiKey exists but is another shard's, reading the ApiKeys after every Rancher list", async () => {
    const rancher = new FakeRancher();
    const OTHER = 'bbbbbbbb-0000-4000-8000-000000000002';
    rancher.seed({ description: markerOf(OTHER, 'theirs') });
    const orphan = rancher.seed({ description: markerOf(GONE, 'old') });
    const asked: { namespaces: readonly string[]; listsBefore: number }[] = [];
    const allApiKeyUids = async (namespaces: readonly string[]) => {
      asked.push({ namespaces, listsBefore: rancher.calls.filter((c) => c.method === 'listKeys').length });
      return new Set([LIVE, OTHER]);
    };
    const user = apiKeyObject({ metadata: { uid: LIVE }, spec: { environment: '1a5' } }) as typeof liveApiKey;
    const found = await findOrphans(rancher, conn, { ...scope, apiKeys: [user], allApiKeyUids }, []);
    expect(found.map((o) => o.key.id)).toEqual([orphan.id]);
    // One read, of the connection's namespace, after both scope lists (account and environment 1a5).
    expect(asked).toEqual([{ namespaces: ['team-a'], listsBefore: 2 }]);
    // Nothing the cache does not explain: the ApiKeys are not listed at all.
    asked.length = 0;
    await findOrphans(new FakeRancher(), conn, { ...scope, allApiKeyUids }, []);
    expect(asked).toEqual([]);
  });

  it('leaves keys of namespaces outside the watch scope to the operator instance that watches them', async () => {
    const rancher = new FakeRancher();
    rancher.seed({ description: markerOf(GONE, 'x', 'team-b') });
    const cluster = { kind: 'ClusterRancherConnection', name: 'shared', namespace: '' };
    expect(await findOrphans(rancher, cluster, { ...scope, watchNamespaces: ['team-a'] }, [])).toEqual([]);
  });

  it('reports a key once when two scopes list it (an environment URL makes the account scope that environment)', async () => {
    const rancher = new FakeRancher();
    const user = apiKeyObject({ metadata: { uid: LIVE }, spec: { environment: '1a5' } }) as typeof liveApiKey;
    rancher.seed({ description: markerOf(GONE, 'a'), environment: '1a5' });
    // A client pinned to 1a5 answers the account-scope list from 1a5 too.
    const pinned = new Proxy(rancher, {
      get: (target, prop) =>
        prop === 'listKeys'
          ? (_scope: unknown, filters?: Record<string, string>, options?: object) =>
              target.listKeys({ environment: '1a5' }, filters, options)
          : Reflect.get(target, prop),
    });
    const found = await findOrphans(pinned, conn, { apiKeys: [user], watchNamespaces: [] }, []);
    expect(found.map((o) => o.apiKey)).toEqual(['team-a/a']);
    expect(rancher.calls.filter((c) => c.method === 'listKeys')).toHaveLength(2);
  });

  it("looks in account scope and in every environment the connection's ApiKeys use", async () => {
    const rancher = new FakeRancher();
    const user = apiKeyObject({ metadata: { uid: LIVE }, spec: { environment: '1a5' } }) as typeof liveApiKey;
    rancher.seed({ description: markerOf(GONE, 'a'), environment: '1a5' });
    rancher.seed({ description: markerOf(GONE, 'b'), environment: '1a9' });
    const found = await findOrphans(rancher, conn, { apiKeys: [user], watchNamespaces: [] }, ['1a9']);
    expect(found.map((o) => [o.apiKey, o.environment]).sort()).toEqual([
      ['team-a/a', '1a5'],
      ['team-a/b', '1a9'],
    ]);
  });

  it('does not report removed or purged orphans (they cannot authenticate)', async () => {
    const rancher = new FakeRancher();
    rancher.seed({ description: markerOf(GONE), state: 'removed' });
    rancher.seed({ description: markerOf(GONE), state: 'purged' });
    const found = await findOrphans(rancher, conn, scope, []);
    expect(found.filter(isLiveOrphan)).toEqual([]);
  });
});

describe('cleanOrphans (orphanPolicy Delete)', () => {
  it('moves an active orphan one step per pass: deactivate, then remove and purge', async () => {
    const rancher = new FakeRancher();
    const orphan = rancher.seed({ description: markerOf(GONE) });
    const kept = rancher.seed({ description: markerOf(LIVE) });
    let found = await findOrphans(rancher, conn, scope, [], true);
    expect(await cleanOrphans(rancher, found)).toBe(1);
    expect(rancher.peek(orphan.id)?.state).toBe('inactive');

    found = await findOrphans(rancher, conn, scope, [], true);
    expect(await cleanOrphans(rancher, found)).toBe(1);
    expect(rancher.peek(orphan.id)?.state).toBe('purged');
    expect(rancher.peek(kept.id)?.state).toBe('active');

    found = await findOrphans(rancher, conn, scope, [], true);
    expect(found).toEqual([]);
    expect(await cleanOrphans(rancher, found)).toBe(0);
  });

  it('only the caller with orphanPolicy Delete cleans: finding orphans changes nothing in Rancher', async () => {
    const rancher = new FakeRancher();
    rancher.seed({ description: markerOf(GONE) });
    await findOrphans(rancher, conn, scope, []);
    expect(rancher.methods()).toEqual(['listKeys']);
    expect(rancher.all().map((k) => k.state)).toEqual(['active']);
  });

  // orphanPolicy Delete lists removed keys (`_removed`) so an orphan an earlier pass left `removed` (e.g. the
  // wait after remove timed out) is purged by the operator, not only by Rancher's own purge (0-11 min).
  it('purges an orphan left removed by an earlier pass (Delete lists removed keys for this)', async () => {
    const rancher = new FakeRancher();
    const orphan = rancher.seed({ description: markerOf(GONE), state: 'removed' });
    const found = await findOrphans(rancher, conn, scope, [], true);
    await cleanOrphans(rancher, found);
    expect(rancher.peek(orphan.id)?.state).toBe('purged');
  });

  it('waits for a transitioning orphan instead of acting on it', async () => {
    const rancher = new FakeRancher();
    rancher.autoSettle = false;
    const orphan = rancher.seed({ description: markerOf(GONE) });
    const [o] = await findOrphans(rancher, conn, scope, [], true);
    if (!o) throw new Error('orphan not found');
    await rancher.deactivateKey(o.key);
    const again = await findOrphans(rancher, conn, scope, [], true);
    expect(again[0]?.key).toMatchObject({ state: 'deactivating', transitioning: 'yes' });
    const before = rancher.calls.length;
    expect(await cleanOrphans(rancher, again)).toBe(1);
    expect(rancher.calls.length).toBe(before);
    expect(rancher.peek(orphan.id)?.state).toBe('deactivating');
  });
});
