import { describe, expect, it } from 'vitest';
import { LABELS } from '../../api/names.ts';
import { RancherError } from '../../rancher/index.ts';
import { apiKeyObject, type Write } from '../fakes.test-support.ts';
import { ANY_MARKER_FILTER } from '../marker.ts';
import { apiKeyWorld, FakeDrift } from '../reconcile-fakes.test-support.ts';
import { reconcileApiKey } from './reconcile.ts';
import { createRetirementLists, deletingUidsOf } from './retirement-list.ts';
import { createUnreadSecrets } from './unread-secrets.ts';

const KEY = { namespace: 'team-a', name: 'ci' };
const APISERVER = new Set([
  'finalizers',
  'status',
  'secret.create',
  'secret.replace',
  'secret.delete',
  'event',
]);

/** setUp stores an ApiKey in the cache and returns a pass runner that applies the pass's writes to the cache. */
function setUp(over: Parameters<typeof apiKeyObject>[0] = {}, nowIso?: string) {
  const w = apiKeyWorld(nowIso);
  w.apiKeys.set('team-a', 'ci', apiKeyObject(over));
  let seen = 0;
  async function pass() {
    const result = await reconcileApiKey(KEY, w.deps);
    const writes = w.journal.writes.slice(seen);
    // FakeResources answers each ApiKey write with the journal length as its resourceVersion.
    for (const [i, write] of writes.entries()) apply(write, String(seen + i + 1));
    seen = w.journal.writes.length;
    return { result, writes, apiserver: writes.filter((x) => APISERVER.has(x.op)).map((x) => x.op) };
  }
  function apply(write: Write, resourceVersion: string) {
    const obj = w.apiKeys.get('ci', 'team-a') as Record<string, Record<string, unknown>> | undefined;
    if (!obj) return;
    if (write.op === 'finalizers' || write.op === 'status')
      obj.metadata = { ...obj.metadata, resourceVersion };
    if (write.op === 'finalizers') {
      obj.metadata = { ...obj.metadata, finalizers: write.finalizers };
      if (write.finalizers.length === 0 && obj.metadata?.deletionTimestamp) {
        w.apiKeys.objects.delete('team-a/ci');
        return;
      }
    }
    if (write.op === 'status') {
      const status: Record<string, unknown> = { ...obj.status, ...write.status };
      for (const [k, v] of Object.entries(status)) if (v === null) delete status[k];
      obj.status = status;
    }
    w.apiKeys.set('team-a', 'ci', obj);
  }
  const status = () =>
    (w.apiKeys.get('ci', 'team-a') as { status?: Record<string, unknown> } | undefined)?.status;
  const ready = () =>
    (status()?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find(
      (c) => c.type === 'Ready',
    );
  return { ...w, pass, status, ready };
}

const fresh = { metadata: { finalizers: [] } };

describe('reconcileApiKey', () => {
  it('a new ApiKey is Ready in one pass with four apiserver writes, then looks again at the drift check', async () => {
    const t = setUp(fresh);
    const { result, apiserver } = await t.pass();
    expect(apiserver).toEqual(['finalizers', 'secret.create', 'event', 'status']);
    expect(t.rancher.all()).toHaveLength(1);
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'KeyActive' });
    expect(t.status()?.id).toBe(t.rancher.all()[0]?.id);
    expect(result).toEqual({ kind: 'done', requeueAfterMs: 600_000 });
  });

  it('a new key costs two Rancher requests: the create, and one read made with the pair the Secret holds (active and proven)', async () => {
    const t = setUp(fresh);
    await t.pass();
    expect(t.rancher.methods().filter((m) => m !== 'listKeys')).toEqual(['createKey', 'readKeyAs']);
    const conditions = (t.status()?.conditions ?? []) as { type: string; status: string }[];
    const verified = conditions.find((c) => c.type === 'Verified');
    expect(verified).toMatchObject({ status: 'True', reason: 'Authenticated' });
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'KeyActive' });
  });

  it('a first read the key cannot make (401: not active yet; or a failure) falls back to the connection reading the key and a separate verification', async () => {
    for (const answer of ['unauthenticated', 'hidden', 'error'] as const) {
      const t = setUp(fresh);
      t.rancher.readKeyAs = async () => {
        if (answer === 'error') throw new RancherError('Timeout', 'cannot read key as: deadline exceeded');
        return answer;
      };
      await t.pass();
      expect(
        t.rancher.methods().filter((m) => m !== 'listKeys'),
        answer,
      ).toEqual(['createKey', 'waitForTransition', 'verifyKey']);
      expect(t.ready(), answer).toMatchObject({ status: 'True', reason: 'KeyActive' });
    }
  });

  it('a key the first read shows still activating is waited for and verified as before', async () => {
    const t = setUp(fresh);
    t.rancher.readKeyAs = async (key) => ({ ...key, state: 'registering', transitioning: 'yes' });
    await t.pass();
    expect(t.rancher.methods().filter((m) => m !== 'listKeys')).toEqual([
      'createKey',
      'waitForTransition',
      'verifyKey',
    ]);
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'KeyActive' });
  });

  it('with admin credentials a brand-new ApiKey does not read its absent Secret: created before the finalizer, no read', async () => {
    const t = setUp(fresh);
    t.deps.unreadSecrets = createUnreadSecrets();
    const { apiserver } = await t.pass();
    expect(t.secrets.reads).toEqual([]);
    expect(apiserver).toEqual(['secret.create', 'finalizers', 'event', 'status']);
    expect(t.rancher.all()).toHaveLength(1);
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'KeyActive' });
  });

  it('a Secret someone else holds under the name (the labelled cache cannot see it) stops the create before the finalizer and Rancher; the next pass reads it: SecretConflict', async () => {
    const t = setUp(fresh);
    t.deps.unreadSecrets = createUnreadSecrets();
    // The real Secret cache holds only Secrets the operator labelled; the tenant's Secret has no label.
    t.deps.secretCache = {
      get: (name, ns) => {
        const s = t.secrets.get(ns ?? '', name);
        return s?.metadata?.labels?.[LABELS.managedBy] ? s : undefined;
      },
    };
    t.secrets.put({ metadata: { name: 'ci', namespace: 'team-a' }, data: { owner: 'c29tZW9uZSBlbHNl' } });
    const first = await t.pass();
    // Nothing written, not even an Event or a status: the next pass (after the queue's first backoff, 5 ms)
    // reads the Secret and reports it, so the tenant's Secret costs one Warning Event, not two.
    expect(first.result.kind).toBe('retry');
    expect(first.apiserver).toEqual([]);
    expect(
      (t.apiKeys.get('ci', 'team-a') as { metadata: { finalizers?: string[] } }).metadata.finalizers,
    ).toEqual([]);
    expect(t.rancher.all()).toEqual([]);
    const second = await t.pass();
    expect(t.secrets.reads).toEqual(['team-a/ci']);
    expect(t.ready()).toMatchObject({ status: 'False', reason: 'SecretConflict' });
    expect(t.events.reasons()).toEqual(['SecretConflict']);
    expect(second.apiserver).not.toContain('finalizers');
    expect(t.rancher.all()).toEqual([]);
    expect(t.secrets.get('team-a', 'ci')?.data).toEqual({ owner: 'c29tZW9uZSBlbHNl' });
    // It stays reported: a later pass (someone edits the ApiKey) reads the Secret live and tries no create again.
    const obj = t.apiKeys.get('ci', 'team-a') as { metadata: Record<string, unknown> };
    t.apiKeys.set('team-a', 'ci', { ...obj, metadata: { ...obj.metadata, resourceVersion: '99' } });
    const third = await t.pass();
    expect(third.result).toMatchObject({ kind: 'done' });
    expect(third.apiserver).toEqual([]);
    expect(t.secrets.reads).toEqual(['team-a/ci', 'team-a/ci']);
  });

  it('the echo of its own writes wakes no second pass: a cache showing any state the pass wrote asks nobody', async () => {
    const t = setUp(fresh);
    const first = await t.pass();
    expect([...first.apiserver].sort()).toEqual(['event', 'finalizers', 'secret.create', 'status']);
    const obj = t.apiKeys.get('ci', 'team-a') as { metadata: Record<string, unknown> };
    const finalizerVersion = String(first.writes.findIndex((x) => x.op === 'finalizers') + 1);
    // The cache has the finalizer patch but not yet the status patch (the order the watch may deliver them).
    t.apiKeys.set('team-a', 'ci', {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: finalizerVersion },
    });
    t.rancher.calls.length = 0;
    t.secrets.reads.length = 0;
    const skipped: string[] = [];
    t.deps.onSkipped = (reason) => void skipped.push(reason);
    const echo = await t.pass();
    expect(skipped).toEqual(['echo']);
    expect(echo).toMatchObject({ result: { kind: 'done' }, writes: [] });
    // It keeps the first pass's wake-up (the drift check), and nothing else happened.
    expect(echo.result).toMatchObject({
      requeueAfterMs: first.result.kind === 'done' ? first.result.requeueAfterMs : -1,
    });
    expect(t.rancher.calls).toEqual([]);
    expect(t.secrets.reads).toEqual([]);
  });

  it('a change by someone else after its writes (a new ApiKey or Secret version) makes the pass run', async () => {
    const t = setUp(fresh);
    await t.pass();
    const obj = t.apiKeys.get('ci', 'team-a') as { metadata: Record<string, unknown> };
    t.apiKeys.set('team-a', 'ci', { ...obj, metadata: { ...obj.metadata, resourceVersion: 'someone-else' } });
    const apiKeyChanged = await t.pass();
    expect(apiKeyChanged.result).toMatchObject({ kind: 'done', requeueAfterMs: expect.any(Number) });
    // The Secret replaced behind the operator (tampered data): the pass runs and restores it.
    const secret = t.secrets.get('team-a', 'ci');
    t.secrets.put({
      ...secret,
      data: { ...secret?.data, secretValue: Buffer.from('tampered').toString('base64') },
    });
    const restored = await t.pass();
    expect(restored.apiserver).toContain('secret.replace');
    // And the Secret deleted behind the operator is news too, though the first pass started without one.
    t.secrets.objects.delete('team-a/ci');
    const recreated = await t.pass();
    expect(recreated.writes.length).toBeGreaterThan(0);
  });

  it('the steady state writes nothing, asks Rancher nothing and wakes at the sooner of drift check and rotation', async () => {
    // Rancher says the key was created at 2026-01-01T00:00:00Z: with rotation every 1h, it is due at 01:00.
    const t = setUp({ ...fresh, spec: { rotation: { every: '1h' } } }, '2026-01-01T00:45:00Z');
    t.deps.drift = new FakeDrift(3_600_000);
    await t.pass();
    const calls = t.rancher.calls.length;
    // A relist hands the same object back under a new resourceVersion: the pass runs, from the caches only.
    t.apiKeys.set('team-a', 'ci', t.apiKeys.get('ci', 'team-a'));
    const { result, writes } = await t.pass();
    expect(writes).toEqual([]);
    expect(t.rancher.calls.length).toBe(calls);
    expect(result).toEqual({ kind: 'done', requeueAfterMs: 15 * 60_000 });
  });

  it('a drift check whose key list fails asks Rancher for the key by id instead, and finds it as it should be', async () => {
    const t = setUp(fresh);
    await t.pass();
    t.clock.now += 600_000;
    const calls = t.rancher.calls.length;
    t.rancher.failNext('listKeys', new RancherError('LimitExceeded', 'more than 20000 keys'));
    const { result, writes } = await t.pass();
    expect(t.rancher.methods().slice(calls)).toEqual(['listKeys', 'getKey', 'verifyKey']);
    expect(writes).toEqual([]);
    expect(result).toEqual({ kind: 'done', requeueAfterMs: 600_000 });
  });

  it('a Rancher failure at the drift check (key list, then the key by id) is reported once and retried with backoff', async () => {
    const t = setUp(fresh);
    await t.pass();
    t.clock.now += 600_000;
    t.rancher.failNext('listKeys', new RancherError('ServerError', 'HTTP 503', { status: 503 }));
    t.rancher.failNext('getKey', new RancherError('ServerError', 'HTTP 503', { status: 503 }));
    const { result, apiserver } = await t.pass();
    expect(result.kind).toBe('retry');
    expect(apiserver).toEqual(['event', 'status']);
    expect(t.ready()).toMatchObject({ status: 'False' });
    expect(t.rancher.all()[0]?.state).toBe('active');
  });

  it('a deleted ApiKey retires its key in one pass: one Event, three apiserver writes, not requeued', async () => {
    const t = setUp(fresh);
    await t.pass();
    const obj = t.apiKeys.get('ci', 'team-a') as { metadata: Record<string, unknown> };
    t.apiKeys.set('team-a', 'ci', {
      ...obj,
      metadata: { ...obj.metadata, deletionTimestamp: '2026-11-26T00:00:00Z', resourceVersion: 'deleted' },
    });
    t.rancher.calls.length = 0;
    const { result, apiserver } = await t.pass();
    expect(result).toEqual({ kind: 'done' });
    expect(apiserver).toEqual(['event', 'secret.delete', 'finalizers']);
    expect(t.apiKeys.get('ci', 'team-a')).toBeUndefined();
    expect(t.rancher.all().map((k) => k.state)).toEqual(['purged']);
    expect(t.rancher.methods().filter((m) => m === 'getKey' || m === 'listKeys')).toEqual(['listKeys']);
    expect(t.secrets.get('team-a', 'ci')).toBeUndefined();
  });

  it('with shared retirement lists, two deleting ApiKeys read one list: no marker list and no GET of their own', async () => {
    const t = setUp(fresh);
    const other = { namespace: 'team-a', name: 'cd' };
    t.apiKeys.set(
      'team-a',
      'cd',
      apiKeyObject({
        ...fresh,
        metadata: { ...fresh.metadata, name: 'cd', uid: 'cd000000-0000-4000-8000-000000000000' },
      }),
    );
    await t.pass();
    await reconcileApiKey(other, t.deps);
    const objs = () => [...t.apiKeys.objects.values()];
    for (const name of ['ci', 'cd']) {
      const obj = t.apiKeys.get(name, 'team-a') as { metadata: Record<string, unknown> };
      const finalizers = t.journal.writes.findLast((x) => x.op === 'finalizers')?.finalizers;
      t.apiKeys.set('team-a', name, {
        ...obj,
        metadata: {
          ...obj.metadata,
          finalizers,
          deletionTimestamp: '2026-11-26T00:00:00Z',
          resourceVersion: 'deleted',
        },
      });
    }
    const retirements = createRetirementLists({
      deletingUids: () => deletingUidsOf(objs()),
      retryMs: 600_000,
      now: t.deps.now,
    });
    const deps = { ...t.deps, retirements };
    t.rancher.calls.length = 0;
    await Promise.all([reconcileApiKey(KEY, deps), reconcileApiKey(other, deps)]);
    expect(t.rancher.all().map((k) => k.state)).toEqual(['purged', 'purged']);
    const reads = t.rancher.calls.filter((c) => c.method === 'getKey' || c.method === 'listKeys');
    expect(reads).toEqual([{ method: 'listKeys', filters: { ...ANY_MARKER_FILTER, _removed: 'true' } }]);
  });

  it('a pass on a cache that still shows the released ApiKey asks nobody anything', async () => {
    const t = setUp(fresh);
    await t.pass();
    const obj = t.apiKeys.get('ci', 'team-a') as { metadata: Record<string, unknown> };
    const deleting = {
      ...obj,
      metadata: { ...obj.metadata, deletionTimestamp: '2026-11-26T00:00:00Z', resourceVersion: 'deleted' },
    };
    t.apiKeys.set('team-a', 'ci', deleting);
    await t.pass();
    t.apiKeys.set('team-a', 'ci', deleting); // the informer has not seen the deletion yet
    t.rancher.calls.length = 0;
    expect(await t.pass()).toMatchObject({ result: { kind: 'done' }, writes: [] });
    expect(t.rancher.calls).toEqual([]);
    t.apiKeys.objects.clear(); // now it has: the memory of the release goes too
    await t.pass();
    expect(t.deps.lastWritten.size).toBe(0);
  });

  it('forgets the status it wrote for an ApiKey deleted without its finalizer (no memory left per deleted key)', async () => {
    const t = setUp(fresh);
    t.resolver.resolved = {
      view: { ok: false, reason: 'ConnectionNotFound', message: 'no such connection', terminal: false },
    };
    expect((await t.pass()).apiserver).toContain('status');
    expect(t.deps.lastWritten.size).toBe(1);
    t.apiKeys.objects.clear();
    await t.pass();
    expect(t.deps.lastWritten.size).toBe(0);
  });

  it('an ApiKey that is gone is done without any call', async () => {
    const t = setUp();
    t.apiKeys.objects.clear();
    expect(await t.pass()).toMatchObject({ result: { kind: 'done' }, writes: [] });
    expect(t.rancher.calls).toEqual([]);
  });
});
