import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../../api/names.ts';
import type { RancherClient } from '../../rancher/index.ts';
import { FakeRancher } from '../fakes.test-support.ts';
import { markerToken } from '../marker.ts';
import { createRetirementLists, deletingUidsOf, LIST_MAX_AGE_MS } from './retirement-list.ts';

const RETRY = 600_000;
const uidOf = (name: string) => `${name.padEnd(8, '0')}-0000-4000-8000-000000000000`;
const description = (name: string) =>
  `[managed by rancher-apikey-operator: team-a/${name} ${markerToken(uidOf(name))}]`;

/** world: a FakeRancher whose lists can be held open, and the ApiKeys the cache shows deleting. */
function world() {
  const rancher = new FakeRancher();
  const clock = { now: 1_000_000 };
  const deleting = new Set<string>();
  let gate: Promise<void> | undefined;
  // A client whose listKeys waits for `hold`'s release: a list "in progress".
  const client: RancherClient = Object.create(rancher, {
    listKeys: {
      value: async (...a: Parameters<RancherClient['listKeys']>) => {
        if (gate) await gate;
        return rancher.listKeys(...a);
      },
    },
  });
  const lists = createRetirementLists({ deletingUids: () => deleting, retryMs: RETRY, now: () => clock.now });
  const hold = () => {
    let release = () => {};
    gate = new Promise<void>((r) => {
      release = () => {
        gate = undefined;
        r();
      };
    });
    return release;
  };
  const scope = { client, environment: undefined };
  const listCalls = () => rancher.methods().filter((m) => m === 'listKeys').length;
  const ids = (keys: { id: string }[] | undefined) => keys?.map((k) => k.id).sort();
  return { rancher, clock, deleting, lists, hold, scope, listCalls, ids };
}

describe('retirement lists: one shared marker list per scope answers many deletions', () => {
  it('one list answers every ApiKey deleting when it began, each with only its own keys (removed included)', async () => {
    const w = world();
    const a1 = w.rancher.seed({ description: description('a') });
    const a2 = w.rancher.seed({ description: description('a'), state: 'removed' });
    w.rancher.seed({ description: description('a'), state: 'purged' });
    const b1 = w.rancher.seed({ description: description('b'), state: 'inactive' });
    w.rancher.seed({ description: description('c') }); // c is not deleting
    w.rancher.seed({ description: 'a key of someone else' });
    w.deleting.add(uidOf('a')).add(uidOf('b'));
    const [a, b] = await Promise.all([
      w.lists.marked(w.scope, uidOf('a')),
      w.lists.marked(w.scope, uidOf('b')),
    ]);
    expect(w.ids(a)).toEqual([a1.id, a2.id].sort());
    expect(w.ids(b)).toEqual([b1.id]);
    expect(w.listCalls()).toBe(1);
  });

  it('an ApiKey with no marked key gets an empty answer, not a list of its own', async () => {
    const w = world();
    w.deleting.add(uidOf('a')).add(uidOf('b'));
    w.rancher.seed({ description: description('a') });
    await w.lists.marked(w.scope, uidOf('a'));
    expect(await w.lists.marked(w.scope, uidOf('b'))).toEqual([]);
    expect(w.listCalls()).toBe(1);
  });

  it('an ApiKey that was not deleting when the list in progress began waits for it, then reads the next one', async () => {
    const w = world();
    w.deleting.add(uidOf('a'));
    const release = w.hold();
    const a = w.lists.marked(w.scope, uidOf('a'));
    // b's deletion is seen while a's list is being read: a key created just before might be missing from it.
    w.deleting.add(uidOf('b'));
    const late = w.rancher.seed({ description: description('b') });
    const b = w.lists.marked(w.scope, uidOf('b'));
    release();
    await a;
    expect(w.ids(await b)).toEqual([late.id]);
    expect(w.listCalls()).toBe(2);
  });

  it('no list that began before a create for the ApiKey ended answers for it', async () => {
    const w = world();
    w.deleting.add(uidOf('a')).add(uidOf('b'));
    const release = w.hold();
    const a = w.lists.marked(w.scope, uidOf('a'));
    // b's create was still under way when the list began (a pass that started before the deletion).
    const created = w.lists.creating(uidOf('b'), async () => {
      w.clock.now += 5;
      return w.rancher.seed({ description: description('b') });
    });
    release();
    await a;
    const key = await created;
    w.clock.now += 1;
    expect(w.ids(await w.lists.marked(w.scope, uidOf('b')))).toEqual([key.id]);
    expect(w.listCalls()).toBe(2);
  });

  it('a list answers an ApiKey once: its next pass (after acting on what the list showed) lists by marker', async () => {
    const w = world();
    w.deleting.add(uidOf('a'));
    w.rancher.seed({ description: description('a') });
    expect(await w.lists.marked(w.scope, uidOf('a'))).toHaveLength(1);
    expect(await w.lists.marked(w.scope, uidOf('a'))).toBeUndefined();
    expect(w.listCalls()).toBe(1);
  });

  it(`a list older than ${LIST_MAX_AGE_MS / 1000} s answers no one: the next deletion reads a new one`, async () => {
    const w = world();
    w.deleting.add(uidOf('a')).add(uidOf('b'));
    await w.lists.marked(w.scope, uidOf('a'));
    w.clock.now += LIST_MAX_AGE_MS + 1;
    const b1 = w.rancher.seed({ description: description('b') });
    expect(w.ids(await w.lists.marked(w.scope, uidOf('b')))).toEqual([b1.id]);
    expect(w.listCalls()).toBe(2);
  });

  it('a scope whose list cannot be read answers no one (each deletion lists by marker) until the retry interval', async () => {
    const w = world();
    w.deleting.add(uidOf('a')).add(uidOf('b'));
    w.rancher.failNext('listKeys');
    expect(await w.lists.marked(w.scope, uidOf('a'))).toBeUndefined();
    expect(await w.lists.marked(w.scope, uidOf('b'))).toBeUndefined();
    expect(w.listCalls()).toBe(1);
    w.clock.now += RETRY;
    expect(await w.lists.marked(w.scope, uidOf('b'))).toEqual([]);
    expect(w.listCalls()).toBe(2);
  });

  it('scopes do not share lists: another environment reads its own', async () => {
    const w = world();
    w.deleting.add(uidOf('a')).add(uidOf('b'));
    const inEnv = w.rancher.seed({ description: description('b'), environment: '1a7' });
    await w.lists.marked(w.scope, uidOf('a'));
    const other = { client: w.scope.client, environment: '1a7' };
    expect(w.ids(await w.lists.marked(other, uidOf('b')))).toEqual([inEnv.id]);
    expect(w.listCalls()).toBe(2);
  });
});

describe('deletingUidsOf', () => {
  it('picks the ApiKeys that are deleting and still carry the finalizer', () => {
    const meta = (uid: string, deleting: boolean, finalizers: string[]) => ({
      metadata: { uid, finalizers, ...(deleting ? { deletionTimestamp: '2026-12-03T00:00:00Z' } : {}) },
    });
    const objects = [
      meta('1', true, [FINALIZER]),
      meta('2', false, [FINALIZER]),
      meta('3', true, ['someone-else/finalizer']),
      meta('4', true, ['x', FINALIZER]),
    ];
    expect([...deletingUidsOf(objects)]).toEqual(['1', '4']);
  });
});
