import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../../kube/label-selector.ts';
import type { ClaimView, ShardClaims } from '../../../kube/shard-claims.ts';
import type { Logger } from '../../../observability/logger.ts';
import type { ClaimantView } from './decide.ts';
import { createShardGate } from './gate.ts';

const key = { namespace: 'team', name: 'k' };
const quiet = { info() {}, warn() {}, debug() {}, error() {} } as unknown as Logger;

function setup(o: {
  cached?: { shard?: string } | undefined;
  live?: Partial<ClaimView>;
  lease?: ClaimantView;
}) {
  let live: ClaimView | undefined = {
    ...key,
    uid: 'u1',
    resourceVersion: '5',
    labels: { shard: 'b' },
    shard: '',
    ...o.live,
  };
  let cached: unknown = o.cached === undefined ? undefined : { status: o.cached };
  const writes: [string, string][] = [];
  const events: string[] = [];
  const counts: string[] = [];
  let overlaps = 0;
  const forgotten: string[] = [];
  let conflict = false;
  let reads = 0;
  const claims: ShardClaims = {
    read: async () => {
      reads++;
      return live;
    },
    set: async (_ns, _name, shard, rv) => {
      if (conflict || !live || rv !== live.resourceVersion) return false;
      writes.push([shard, rv]);
      live = { ...live, shard, resourceVersion: String(Number(rv) + 1) };
      return true;
    },
    claimedBy: async () => [],
    uids: async () => new Set(),
  };
  const gate = createShardGate({
    shard: 'b',
    claims,
    leases: { view: async () => o.lease },
    apiKeys: { get: () => cached },
    events: { record: async (_t, type, reason) => void events.push(`${type} ${reason}`) },
    logger: quiet,
    report: {
      claimed: (a) => void counts.push(a),
      overlaps: (n) => {
        overlaps = n;
      },
    },
    recheckMs: 17_000,
    forget: (k, uid) => {
      forgotten.push(`${k.name}/${uid}`);
    },
  });
  return {
    gate,
    writes,
    events,
    counts,
    overlaps: () => overlaps,
    setCached: (c: unknown) => {
      cached = c;
    },
    setConflict: () => {
      conflict = true;
    },
    live: () => live,
    reads: () => reads,
    forgotten,
  };
}
const liveLease = (selector: string): ClaimantView => ({
  live: true,
  namespaces: [],
  selector: parseLabelSelector(selector),
});

describe('createShardGate', () => {
  it('claims an unclaimed ApiKey with a guarded write and lets the pass run once the cache shows the claim', async () => {
    const t = setup({ cached: {} });
    expect(await t.gate.admit(key)).toEqual({ kind: 'done' });
    expect(t.writes).toEqual([['b', '5']]);
    expect(t.counts).toEqual(['claim']);
    t.setCached({ status: { shard: 'b' } });
    expect(await t.gate.admit(key)).toBeUndefined();
  });

  it('claims an ApiKey the cache shows unclaimed at the cached version, without reading it first', async () => {
    const t = setup({ cached: {} });
    t.setCached({ metadata: { resourceVersion: '5' }, status: {} });
    expect(await t.gate.admit(key)).toEqual({ kind: 'done' });
    expect(t.writes).toEqual([['b', '5']]);
    expect(t.reads()).toBe(0);
  });

  it('writes nothing when the claim loses a race (409): the winner is judged on the next event', async () => {
    const t = setup({ cached: {} });
    t.setConflict();
    expect(await t.gate.admit(key)).toEqual({ kind: 'done' });
    expect(t.counts).toEqual([]);
    t.setCached(undefined);
    expect(await t.gate.admit(key)).toBeUndefined();
  });

  it('releases an ApiKey it claimed once it left the cache, and only then', async () => {
    const t = setup({ cached: { shard: 'b' }, live: { shard: 'b' } });
    expect(await t.gate.admit(key)).toBeUndefined();
    t.setCached(undefined);
    expect(await t.gate.admit(key)).toEqual({ kind: 'done' });
    expect(t.writes).toEqual([['', '5']]);
    expect(t.counts).toEqual(['release']);
    expect(t.forgotten).toEqual(['k/u1']);
    expect(await t.gate.admit(key)).toBeUndefined();
    expect(t.writes).toHaveLength(1);
  });

  it('an ApiKey whose finalizer this shard removed is not read again once it leaves the cache', async () => {
    const t = setup({ cached: { shard: 'b' }, live: { shard: 'b' } });
    expect(await t.gate.admit(key)).toBeUndefined();
    t.gate.finished(key);
    t.setCached(undefined);
    expect(await t.gate.admit(key)).toBeUndefined();
    expect([t.reads(), t.writes.length]).toEqual([0, 0]);
  });

  it('adopted keys (claimed but no longer selected, found at start) are released on their pass', async () => {
    const t = setup({ cached: undefined, live: { shard: 'b' } });
    t.gate.adopt([key]);
    expect(await t.gate.admit(key)).toEqual({ kind: 'done' });
    expect(t.live()?.shard).toBe('');
  });

  it('waits, writing nothing, while a live claimant that no longer selects the ApiKey finishes', async () => {
    const t = setup({ cached: { shard: 'a' }, live: { shard: 'a' }, lease: liveLease('shard=a') });
    expect(await t.gate.admit(key)).toEqual({ kind: 'done', requeueAfterMs: 17_000 });
    expect([t.writes, t.events, t.overlaps()]).toEqual([[], [], 0]);
  });

  it('takes over a claim whose Lease is no longer held', async () => {
    const t = setup({
      cached: { shard: 'a' },
      live: { shard: 'a' },
      lease: { ...liveLease('shard=a'), live: false },
    });
    expect(await t.gate.admit(key)).toEqual({ kind: 'done' });
    expect(t.writes).toEqual([['b', '5']]);
    expect(t.counts).toEqual(['take_over']);
  });

  it('reports an overlap once (Event, gauge) and never writes the claim', async () => {
    const t = setup({
      cached: { shard: 'a' },
      live: { shard: 'a', labels: { shard: 'a' } },
      lease: liveLease('shard in (a,b)'),
    });
    expect(await t.gate.admit(key)).toEqual({ kind: 'done', requeueAfterMs: 17_000 });
    await t.gate.admit(key);
    expect(t.events).toEqual(['Warning ShardOverlap']);
    expect(t.overlaps()).toBe(1);
    expect(t.writes).toEqual([]);
  });
});
