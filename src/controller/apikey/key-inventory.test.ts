import { describe, expect, it } from 'vitest';
import { RancherError } from '../../rancher/index.ts';
import { FakeRancher, MapCache } from '../fakes.test-support.ts';
import { markerToken } from '../marker.ts';
import type { ObjectKey } from '../object-key.ts';
import { createDriftTracker } from './drift.ts';
import { createKeyInventory, type Expectation } from './key-inventory.ts';

const INTERVAL = 600_000;

const description = (ns: string, name: string, uid: string) =>
  `[managed by rancher-apikey-operator: ${ns}/${name} ${markerToken(uid)}]`;

/** world: one FakeRancher, ApiKeys a..z in the cache, an inventory over a jitter-free drift tracker. */
function world() {
  const rancher = new FakeRancher();
  const apiKeys = new MapCache();
  const drift = createDriftTracker(INTERVAL, 0);
  const clock = { now: 1_000_000 };
  const requeued: ObjectKey[] = [];
  const inventory = createKeyInventory({
    intervalMs: INTERVAL,
    drift,
    apiKeys,
    requeue: (k) => void requeued.push(k),
    now: () => clock.now,
  });
  /** key stores an ApiKey `name` in namespace `ns` with a matching active Rancher key, and returns its expectation. */
  const key = (name: string, ns = 'team-a', environment?: string): Expectation => {
    const uid = `${name.padEnd(8, '0')}-0000-4000-8000-000000000000`;
    apiKeys.set(ns, name, { metadata: { name, namespace: ns, uid } });
    const seeded = rancher.seed({ name, description: description(ns, name, uid), environment });
    const shape = {
      id: seeded.id,
      publicValue: seeded.publicValue,
      state: 'active' as const,
      name,
      description: description(ns, name, uid),
    };
    return { uid, key: { namespace: ns, name }, shape };
  };
  const scope = (environment?: string) => ({ client: rancher, environment });
  return { rancher, apiKeys, drift, clock, requeued, inventory, key, scope };
}

describe('key inventory: one list per connection scope and drift interval', () => {
  it('the first due check reads the list once and checks every ApiKey at rest in the scope with it', async () => {
    const w = world();
    const [a, b, c] = [w.key('a'), w.key('b'), w.key('c')];
    for (const e of [b, c]) w.inventory.expect(w.scope(), e);
    expect(await w.inventory.shows(w.scope(), a)).toBe(true);
    expect(w.rancher.methods()).toEqual(['listKeys']);
    // b and c were checked by that list: their next drift check is a whole interval away.
    for (const e of [a, b, c]) expect(w.drift.untilDue(e.uid, w.clock.now)).toBe(INTERVAL);
    expect(w.requeued).toEqual([]);
  });

  it('an ApiKey whose key the list shows otherwise, or not at all, is requeued with its drift check due', async () => {
    const w = world();
    const [a, b, c] = [w.key('a'), w.key('b'), w.key('c')];
    w.drift.checked(b.uid, w.clock.now);
    w.drift.checked(c.uid, w.clock.now);
    // c's key is not listed at all (as if removed out of band): c expects a key id the list lacks.
    c.shape = { ...c.shape, id: '1c999' };
    for (const e of [b, c]) w.inventory.expect(w.scope(), e);
    const deactivated = w.rancher.all().find((k) => k.id === b.shape.id);
    if (!deactivated) throw new Error('no key b');
    await w.rancher.deactivateKey(deactivated);
    expect(await w.inventory.shows(w.scope(), a)).toBe(true);
    expect(w.requeued).toEqual([b.key, c.key]);
    expect(w.drift.due(b.uid, w.clock.now)).toBe(true);
    expect(w.drift.due(c.uid, w.clock.now)).toBe(true);
    // Their own passes get "not shown": they ask Rancher by id, from the same list (no second read).
    expect(await w.inventory.shows(w.scope(), b)).toBe(false);
    expect(await w.inventory.shows(w.scope(), c)).toBe(false);
    expect(w.rancher.methods().filter((m) => m === 'listKeys')).toHaveLength(1);
  });

  it('a second key carrying the same marker (a stray) means the ApiKey must ask Rancher', async () => {
    const w = world();
    const a = w.key('a');
    w.rancher.seed({ name: 'a', description: a.shape.description, state: 'inactive' });
    expect(await w.inventory.shows(w.scope(), a)).toBe(false);
  });

  it('a due check within a tenth of the interval reuses the list; later ones read it again', async () => {
    const w = world();
    const [a, b] = [w.key('a'), w.key('b')];
    expect(await w.inventory.shows(w.scope(), a)).toBe(true);
    w.clock.now += INTERVAL / 10 - 1;
    expect(await w.inventory.shows(w.scope(), b)).toBe(true);
    expect(w.rancher.methods()).toEqual(['listKeys']);
    w.clock.now += 1;
    expect(await w.inventory.shows(w.scope(), b)).toBe(true);
    expect(w.rancher.methods()).toEqual(['listKeys', 'listKeys']);
  });

  it('concurrent due checks of one scope share one read', async () => {
    const w = world();
    const keys = ['a', 'b', 'c', 'd'].map((n) => w.key(n));
    const shown = await Promise.all(keys.map((e) => w.inventory.shows(w.scope(), e)));
    expect(shown).toEqual([true, true, true, true]);
    expect(w.rancher.methods()).toEqual(['listKeys']);
  });

  it('a list that fails is not read again for an interval: meanwhile every key asks Rancher by id', async () => {
    const w = world();
    const [a, b] = [w.key('a'), w.key('b')];
    w.rancher.failNext('listKeys', new RancherError('LimitExceeded', 'more than 20000 keys'));
    expect(await w.inventory.shows(w.scope(), a)).toBe(false);
    w.clock.now += INTERVAL - 1;
    expect(await w.inventory.shows(w.scope(), b)).toBe(false);
    expect(w.rancher.methods()).toEqual(['listKeys']);
    w.clock.now += 1;
    expect(await w.inventory.shows(w.scope(), b)).toBe(true);
  });

  it('each connection scope has its own list: one never checks the keys of another', async () => {
    const w = world();
    const a = w.key('a', 'team-a', '1a5');
    const b = w.key('b', 'team-b');
    const other = new FakeRancher();
    w.inventory.expect({ client: other, environment: undefined }, b);
    expect(await w.inventory.shows(w.scope('1a5'), a)).toBe(true);
    expect(w.drift.due(b.uid, w.clock.now)).toBe(true); // not checked by team-a's list
    expect(w.requeued).toEqual([]);
    // b's own list (another client) does not show b's key: b asks Rancher itself.
    expect(await w.inventory.shows({ client: other, environment: undefined }, b)).toBe(false);
    expect(other.methods()).toEqual(['listKeys']);
  });

  it('an ApiKey deleted (or replaced under the same name) since it registered is dropped, not requeued', async () => {
    const w = world();
    const [a, b] = [w.key('a'), w.key('b')];
    w.inventory.expect(w.scope(), b);
    w.apiKeys.set('team-a', 'b', { metadata: { name: 'b', namespace: 'team-a', uid: 'another-uid' } });
    const gone = w.rancher.all().find((k) => k.id === b.shape.id);
    if (gone) await w.rancher.deactivateKey(gone);
    await w.inventory.shows(w.scope(), a);
    expect(w.requeued).toEqual([]);
  });

  it('readable reads the scope list once per interval and says whether it could', async () => {
    const w = world();
    expect(await w.inventory.readable(w.scope())).toBe(true);
    w.clock.now += INTERVAL - 1;
    expect(await w.inventory.readable(w.scope())).toBe(true);
    expect(w.rancher.methods()).toEqual(['listKeys']);
    w.clock.now += 1;
    w.rancher.failNext('listKeys', new RancherError('Forbidden', 'HTTP 403', { status: 403 }));
    expect(await w.inventory.readable(w.scope())).toBe(false);
    expect(await w.inventory.readable(w.scope())).toBe(false);
    expect(w.rancher.methods()).toEqual(['listKeys', 'listKeys']);
  });
});
