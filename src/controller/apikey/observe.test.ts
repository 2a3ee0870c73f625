import { describe, expect, it } from 'vitest';
import { ApiKeySchema } from '../../api/apikey.ts';
import { RancherError } from '../../rancher/index.ts';
import type { ConnectionResolver, Resolved } from '../connection/resolver.ts';
import { apiKeyObject, FakeRancher, FakeSecrets, MapCache, UID, URL } from '../fakes.test-support.ts';
import { rancherDescription } from '../marker.ts';
import { createDriftTracker } from './drift.ts';
import { createKeyInventory } from './key-inventory.ts';
import type { Observation, RancherView } from './model.ts';
import { type Observed, observe } from './observe.ts';
import { buildSecret, buildStagingSecret, stagingNameOf } from './secret-data.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const PAIR = { publicValue: 'AAAAAAAAAAAAAAAAAAA1', secretValue: 'the-secret-value-of-key-one-000000000000' };
const DESCRIPTION = rancherDescription(ApiKeySchema.parse(apiKeyObject()));

const readyStatus = (over: Record<string, unknown> = {}) => ({
  observedGeneration: 1,
  id: '1c1',
  publicValue: PAIR.publicValue,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'KeyReady',
      message: 'ok',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ],
  ...over,
});

function world(opts: { apiKey?: Record<string, unknown>; resolved?: 'ok' | 'refused' } = {}) {
  const rancher = new FakeRancher();
  const secrets = new FakeSecrets();
  const apiKeys = new MapCache();
  const secretCache = new MapCache();
  const drift = createDriftTracker(600_000, 0);
  const requeued: unknown[] = [];
  const inventory = createKeyInventory({
    intervalMs: 600_000,
    drift,
    apiKeys,
    requeue: (k) => requeued.push(k),
    now: () => NOW,
  });
  const raw = opts.apiKey ?? apiKeyObject({ status: readyStatus() });
  apiKeys.set('team-a', 'ci', raw);
  const resolveCalls: unknown[] = [];
  const resolved: Resolved =
    opts.resolved === 'refused'
      ? { view: { ok: false, reason: 'ConnectionNotFound', message: 'no connection', terminal: false } }
      : {
          view: { ok: true, url: URL, canSupplyValues: true, accountId: '1a1' },
          client: rancher,
          identity: rancher.identityValue,
          url: URL,
        };
  const connections: ConnectionResolver = {
    refFor: (k) => ({ kind: 'RancherConnection', name: k.spec.connectionRef.name, namespace: 'team-a' }),
    resolve: async (ref, o) => {
      resolveCalls.push({ ref, o });
      return resolved;
    },
    invalidate: () => undefined,
  };
  const apiKey = ApiKeySchema.parse(raw);
  /** storeSecret puts the owned Secret with `pair` both in the API (live) and in the informer cache. */
  const storeSecret = (pair = PAIR, where: { live?: boolean; cache?: boolean } = {}) => {
    const stored = secrets.put(buildSecret(apiKey, URL, pair));
    if (where.live === false) secrets.objects.delete('team-a/ci');
    if (where.cache !== false) secretCache.set('team-a', 'ci', stored);
    return stored;
  };
  const run = async (): Promise<Observed> => {
    const r = await observe('team-a/ci', {
      apiKeys,
      secretCache,
      secrets,
      connections,
      drift,
      inventory,
      now: () => NOW,
    });
    if ('gone' in r || 'invalid' in r) throw new Error(`unexpected ${JSON.stringify(r)}`);
    return r;
  };
  return {
    rancher,
    secrets,
    apiKeys,
    secretCache,
    drift,
    inventory,
    requeued,
    apiKey,
    storeSecret,
    run,
    resolveCalls,
  };
}

type Checked = Extract<RancherView, { byId: unknown }>;
function checked(o: Observation): Checked {
  if (!o.rancher.checked || 'error' in o.rancher)
    throw new Error(`Rancher not asked: ${JSON.stringify(o.rancher)}`);
  return o.rancher;
}

describe('observe: when it asks Rancher', () => {
  it('in steady state uses only the caches and asks Rancher nothing', async () => {
    const w = world();
    w.rancher.seed({ id: '1c1', description: DESCRIPTION, ...PAIR });
    w.storeSecret();
    w.drift.checked(UID, NOW - 1_000); // checked a second ago: the next drift check is not due
    const o = await w.run();
    expect(o.observation.rancher).toEqual({ checked: false });
    expect(o.observation.secret).toEqual({
      state: 'owned',
      publicValue: PAIR.publicValue,
      intact: true,
      upToDate: true,
    });
    expect(w.rancher.calls).toEqual([]);
    expect(w.secrets.reads).toEqual([]);
    expect(o.liveSecret).toBeUndefined();
  });

  it('reads the Secret live and asks Rancher when the generation moved', async () => {
    const w = world({ apiKey: apiKeyObject({ metadata: { generation: 2 }, status: readyStatus() }) });
    w.rancher.seed({ id: '1c1', description: DESCRIPTION, ...PAIR });
    w.storeSecret(PAIR, { cache: false }); // the informer has not seen the Secret yet
    w.drift.checked(UID, NOW - 1_000);
    const o = await w.run();
    expect(w.secrets.reads).toContain('team-a/ci');
    expect(o.observation.secret).toMatchObject({
      state: 'owned',
      publicValue: PAIR.publicValue,
      intact: true,
    });
    const r = checked(o.observation);
    expect(r.byId?.id).toBe('1c1');
    expect(r.bySecret?.id).toBe('1c1');
    // The Secret's pair is checked against Rancher: a key that authenticates is verified.
    expect(r.verified).toBe(true);
    expect(w.rancher.methods()).toContain('verifyKey');
  });

  it("a due drift check of a key at rest reads the connection's key list, not the key, and verifies nothing", async () => {
    const w = world();
    w.rancher.seed({ id: '1c1', name: 'ci', description: DESCRIPTION, ...PAIR });
    w.storeSecret();
    w.drift.checked(UID, NOW - 700_000); // the 600 s interval has passed
    const o = await w.run();
    expect(o.observation.rancher).toEqual({ checked: false });
    expect(w.rancher.methods()).toEqual(['listKeys']);
    expect(w.rancher.calls[0]).toMatchObject({ filters: { description_like: '%apikey-uid:%' } });
    expect(w.secrets.reads).toEqual([]); // nothing will be written: the cached Secret is enough
    expect(w.drift.due(UID, NOW)).toBe(false); // the list was this key's drift check
  });

  it.each([
    ['deactivated out of band', { state: 'inactive' }, 'inactive'],
    ['described otherwise out of band', { description: 'changed by hand' }, 'active'],
  ] as const)('a key the list shows %s is read by id and its pair verified', async (_, over, state) => {
    const w = world();
    w.rancher.seed({ id: '1c1', name: 'ci', description: DESCRIPTION, ...PAIR, ...over });
    w.storeSecret();
    w.drift.checked(UID, NOW - 700_000);
    const o = await w.run();
    expect(w.rancher.methods()).toEqual(['listKeys', 'getKey', 'verifyKey']);
    const r = checked(o.observation);
    expect(r.byId).toMatchObject({
      state,
      description: 'description' in over ? over.description : DESCRIPTION,
    });
    expect(r.verified).toBe(state === 'active');
  });

  it('a key the list does not show (removed or purged out of band) is confirmed with one GET before anything acts on it', async () => {
    const w = world();
    w.rancher.seed({ id: '1c1', name: 'ci', description: DESCRIPTION, ...PAIR, state: 'removed' });
    w.storeSecret();
    w.drift.checked(UID, NOW - 700_000);
    const o = await w.run();
    expect(w.rancher.methods().slice(0, 2)).toEqual(['listKeys', 'getKey']);
    expect(checked(o.observation).byId?.state).toBe('removed');
  });

  it('a new ApiKey (no finalizer, no status) needs no marker list once its connection scope list was read', async () => {
    const w = world({ apiKey: apiKeyObject({ metadata: { finalizers: [] } }) });
    const o = await w.run();
    expect(w.rancher.methods()).toEqual(['listKeys']);
    expect(w.rancher.calls[0]).toMatchObject({ filters: { description_like: '%apikey-uid:%' } });
    expect(checked(o.observation).marked).toEqual([]);
    await w.run(); // a second new ApiKey of the scope: the list of this interval is enough
    expect(w.rancher.methods()).toEqual(['listKeys']);
  });

  it('a new ApiKey whose scope list is refused (403) gets the marker list, and its refusal, as before', async () => {
    const w = world({ apiKey: apiKeyObject({ metadata: { finalizers: [] } }) });
    const forbidden = () => new RancherError('Forbidden', 'HTTP 403', { status: 403 });
    w.rancher.failNext('listKeys', forbidden());
    w.rancher.failNext('listKeys', forbidden());
    const o = await w.run();
    expect(w.rancher.methods()).toEqual(['listKeys', 'listKeys']);
    expect(o.observation.rancher).toMatchObject({ checked: true, error: { reason: 'RancherForbidden' } });
  });

  it('a paused ApiKey is never looked up in Rancher, even when something changed', async () => {
    const paused = { annotations: { 'rancher.keyops.dev/paused': 'true' }, generation: 3 };
    const w = world({ apiKey: apiKeyObject({ metadata: paused, status: readyStatus() }) });
    w.storeSecret();
    const o = await w.run();
    expect(o.observation.paused).toBe(true);
    expect(o.observation.rancher).toEqual({ checked: false });
    expect(w.rancher.calls).toEqual([]);
  });

  it('a refused connection leaves Rancher unasked and carries the reason', async () => {
    const w = world({ resolved: 'refused' });
    const o = await w.run();
    expect(o.observation.connection).toMatchObject({ ok: false, reason: 'ConnectionNotFound' });
    expect(o.client).toBeUndefined();
    expect(o.observation.rancher).toEqual({ checked: false });
  });

  it('a deleting ApiKey without the finalizer asks Rancher nothing (no key can be left to retire)', async () => {
    const deleting = { deletionTimestamp: '2026-11-26T11:00:00Z', finalizers: [] };
    const w = world({ apiKey: apiKeyObject({ metadata: deleting, status: readyStatus() }) });
    const o = await w.run();
    expect(o.observation.deleting).toBe(true);
    expect(w.rancher.calls).toEqual([]);
    expect(w.resolveCalls).toEqual([
      { ref: expect.objectContaining({ name: 'rancher' }), o: { forDeletion: true } },
    ]);
  });

  it('a deleting ApiKey reads its key from the marker list: one Rancher read, no GET by id', async () => {
    const deleting = { deletionTimestamp: '2026-11-26T11:00:00Z' };
    const w = world({ apiKey: apiKeyObject({ metadata: deleting, status: readyStatus() }) });
    w.rancher.seed({ id: '1c1', description: DESCRIPTION, ...PAIR });
    w.storeSecret();
    const o = await w.run();
    expect(w.rancher.methods()).toEqual(['listKeys']);
    expect(checked(o.observation).byId).toMatchObject({ id: '1c1', state: 'active' });
    expect(o.keys.has('1c1')).toBe(true);
  });

  it('a deleting ApiKey whose key lost its marker out of band still finds it by id (one GET more)', async () => {
    const deleting = { deletionTimestamp: '2026-11-26T11:00:00Z' };
    const w = world({ apiKey: apiKeyObject({ metadata: deleting, status: readyStatus() }) });
    w.rancher.seed({ id: '1c1', description: 'edited in the Rancher UI', ...PAIR });
    w.storeSecret();
    const o = await w.run();
    expect(w.rancher.methods()).toEqual(['listKeys', 'getKey']);
    expect(checked(o.observation).byId).toMatchObject({ id: '1c1' });
  });

  it('reports a missing ApiKey as gone and an unparseable one as invalid, without asking anyone', async () => {
    const w = world();
    expect(await observe('team-a/other', { ...w, connections: undefined as never, now: () => NOW })).toEqual({
      gone: true,
    });
    w.apiKeys.set('team-a', 'ci', { metadata: { name: 'ci', namespace: 'team-a', uid: UID }, spec: {} });
    const r = await observe('team-a/ci', { ...w, connections: undefined as never, now: () => NOW });
    expect(r).toMatchObject({ invalid: expect.stringContaining('connectionRef') });
    expect(w.rancher.calls).toEqual([]);
  });
});

describe('observe: what Rancher says', () => {
  it('never reports as marked a key whose marker is only inside the user text', async () => {
    const w = world({ apiKey: apiKeyObject({ status: readyStatus({ id: undefined }) }) });
    const marker = DESCRIPTION; // "[managed by rancher-apikey-operator: team-a/ci apikey-uid:<UID>]"
    const ours = w.rancher.seed({ description: `deploy key ${marker}` });
    w.rancher.seed({ description: `${marker} (copied by a tenant) then more text` });
    w.rancher.seed({ description: `${marker.replace(UID, 'bbbbbbbb-0000-4000-8000-000000000002')}` });
    const removed = w.rancher.seed({ description: marker, state: 'removed' });
    w.rancher.seed({ description: marker, state: 'purged' });
    const o = await w.run();
    const r = checked(o.observation);
    // The LIKE filter matched the marker anywhere; only the trailing marker proves ownership.
    expect(w.rancher.calls.find((c) => c.method === 'listKeys')?.filters).toEqual({
      description_like: `%apikey-uid:${UID}%`,
      _removed: 'true',
    });
    expect(r.marked.map((k) => k.id).sort()).toEqual([ours.id, removed.id].sort());
    expect(r.marked.every((k) => k.ownerUid === UID)).toBe(true);
  });

  it('a Secret naming a foreign key is looked up, but only a pair that authenticates verifies it', async () => {
    const w = world({
      apiKey: apiKeyObject({ status: readyStatus({ id: undefined, publicValue: undefined }) }),
    });
    // Someone else's key, without this ApiKey's marker; the tenant wrote its publicValue into the Secret.
    const foreign = w.rancher.seed({
      description: 'admin key',
      secretValue: 'the-real-secret',
      publicValue: 'F0F0F0F0F0F0F0F0F0F0',
    });
    w.storeSecret({ publicValue: foreign.publicValue, secretValue: 'a-guess' });
    let r = checked((await w.run()).observation);
    expect(r.bySecret).toMatchObject({ id: foreign.id, ownerUid: undefined });
    expect(r.verified).toBe(false);
    expect(r.marked).toEqual([]);

    w.storeSecret({ publicValue: foreign.publicValue, secretValue: 'the-real-secret' });
    r = checked((await w.run()).observation);
    expect(r.bySecret?.id).toBe(foreign.id);
    expect(r.verified).toBe(true);
  });

  it('does not verify a removed key named by the Secret, and drops purged ones', async () => {
    const w = world({ apiKey: apiKeyObject({ status: readyStatus({ publicValue: undefined }) }) });
    w.rancher.seed({ id: '1c1', description: DESCRIPTION, ...PAIR, state: 'purged' });
    w.storeSecret();
    const r = checked((await w.run()).observation);
    // getKey still returns a purged key by id; lists hide it, so the Secret's key is not found.
    expect(r.byId?.state).toBe('purged');
    expect(r.bySecret).toBeUndefined();
    expect(r.verified).toBeUndefined();
    expect(w.rancher.methods()).not.toContain('verifyKey');
  });

  it('a Rancher failure becomes an error in the observation, with its reason and no secret', async () => {
    const w = world({ apiKey: apiKeyObject({ status: readyStatus({ id: undefined }) }) });
    w.storeSecret();
    w.rancher.failNext('listKeys', new RancherError('Timeout', 'cannot list keys: deadline exceeded'));
    const o = await w.run();
    expect(o.observation.rancher).toMatchObject({
      checked: true,
      error: { code: 'Timeout', retryable: true },
    });
    expect(JSON.stringify(o.observation)).not.toContain(PAIR.secretValue);
  });

  it('the observation never carries a secret value, though the executor gets the live Secret', async () => {
    const w = world({ apiKey: apiKeyObject({ metadata: { generation: 2 }, status: readyStatus() }) });
    w.rancher.seed({ id: '1c1', description: DESCRIPTION, ...PAIR });
    w.storeSecret();
    const o = await w.run();
    expect(JSON.stringify(o.observation)).not.toContain(PAIR.secretValue);
    expect(JSON.stringify(o.observation)).not.toContain(Buffer.from(PAIR.secretValue).toString('base64'));
    expect(o.liveSecret?.metadata?.name).toBe('ci');
  });

  it('reads the staging Secret live when a rotation is requested, and verifies a marked staged key', async () => {
    const annotations = { 'rancher.keyops.dev/rotate-requested-at': '2026-11-26T11:59:00Z' };
    const w = world({ apiKey: apiKeyObject({ metadata: { annotations }, status: readyStatus() }) });
    w.rancher.seed({ id: '1c1', description: DESCRIPTION, ...PAIR });
    const next = { publicValue: 'BBBBBBBBBBBBBBBBBBB2', secretValue: 'next-secret' };
    w.rancher.seed({ id: '1c2', description: DESCRIPTION, ...next });
    w.storeSecret();
    w.secrets.put(buildStagingSecret(w.apiKey, next)); // the cache has not seen the staging Secret yet
    w.drift.checked(UID, NOW - 1_000);
    const o = await w.run();
    expect(w.secrets.reads).toContain(`team-a/${stagingNameOf(w.apiKey)}`);
    expect(o.observation.staging).toEqual({ state: 'present', publicValue: next.publicValue, intact: true });
    const r = checked(o.observation);
    expect(r.byStaging?.id).toBe('1c2');
    expect(r.stagingVerified).toBe(true);
  });
});
