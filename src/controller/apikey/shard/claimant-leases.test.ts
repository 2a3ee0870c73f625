import { describe, expect, it } from 'vitest';
import type { Lease } from '../../../kube/leader-election.ts';
import { createClaimantLeases, shardAnnotations } from './claimant-leases.ts';

const lease = (rv: string, holder = 'pod-a_1', annotations?: Record<string, string>): Lease => ({
  resourceVersion: rv,
  record: {
    holderIdentity: holder,
    leaseDurationSeconds: 10,
    acquireTime: 0,
    renewTime: 0,
    leaseTransitions: 0,
  },
  ...(annotations ? { annotations } : {}),
});

function setup(initial: Lease | undefined) {
  let current = initial;
  let now = 1_000_000;
  let reads = 0;
  const leases = createClaimantLeases({
    read: async () => {
      reads++;
      return current;
    },
    now: () => now,
    cacheMs: 1_000,
  });
  return {
    leases,
    set: (l: Lease | undefined) => {
      current = l;
    },
    advance: (ms: number) => {
      now += ms;
    },
    reads: () => reads,
  };
}

describe('createClaimantLeases', () => {
  it('a Lease renewed within its duration is live; one unchanged for its whole duration is not', async () => {
    const t = setup(lease('1'));
    expect((await t.leases.view('a'))?.live).toBe(true);
    t.advance(6_000);
    t.set(lease('2'));
    expect((await t.leases.view('a'))?.live).toBe(true);
    t.advance(9_000);
    expect((await t.leases.view('a'))?.live).toBe(true);
    t.advance(1_500);
    expect((await t.leases.view('a'))?.live).toBe(false);
  });

  it('a released Lease (no holder) is not live, and a missing one is undefined', async () => {
    const t = setup(lease('1', ''));
    expect((await t.leases.view('a'))?.live).toBe(false);
    t.advance(2_000);
    t.set(undefined);
    expect(await t.leases.view('a')).toBeUndefined();
  });

  it('reads a shard Lease at most once per cache period', async () => {
    const t = setup(lease('1'));
    await t.leases.view('a');
    await t.leases.view('a');
    expect(t.reads()).toBe(1);
    t.advance(1_000);
    await t.leases.view('a');
    expect(t.reads()).toBe(2);
  });

  it("reads the shard's namespaces and selector from the annotations it writes", async () => {
    const t = setup(
      lease('1', 'x', shardAnnotations({ labelSelector: 'shard=a', namespaces: ['n1', 'n2'] })),
    );
    const view = await t.leases.view('a');
    expect(view?.namespaces).toEqual(['n1', 'n2']);
    expect(view?.selector?.matches({ shard: 'a' })).toBe(true);
    expect(view?.selector?.matches({ shard: 'b' })).toBe(false);
    const bare = setup(lease('1'));
    expect((await bare.leases.view('a'))?.selector).toBeUndefined();
  });
});
