import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock.test-support.ts';
import { createTenantBudget, defaultTenantCap, type TenantBudgetOptions } from './tenant-budget.ts';

const flush = () => new Promise((r) => setImmediate(r));

/** pending returns a pass that runs until finish() (or fail()) is called. */
function pending() {
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    finish = res;
    fail = rej;
  });
  return { pass: () => done, finish, fail };
}

function setUp(overrides: Partial<TenantBudgetOptions> = {}) {
  const clock = createFakeClock(1_000_000);
  /** deferred lists the keys handed back to the queue, in order, with the delay asked for. */
  const deferred: Array<{ key: string; delayMs: number }> = [];
  const releasedErrors: string[] = [];
  const budget = createTenantBudget({
    cap: 2,
    slowAfterMs: 1_000,
    maxReleased: 16,
    slowMemoryMs: 10_000,
    clock,
    onReleasedError: (key) => releasedErrors.push(key),
    ...overrides,
  });
  /** start runs a pass for key (`namespace/name`) in its namespace's group, plus `shared` groups. */
  function start(key: string, cluster = false, shared: string[] = []) {
    const p = pending();
    let returned = false;
    let ran = false;
    let handedBack = false;
    const groups = cluster ? [] : [key.split('/')[0] ?? '', ...shared];
    const result = budget
      .run(
        key,
        groups,
        () => {
          ran = true;
          return p.pass();
        },
        (ms) => {
          handedBack = true;
          deferred.push({ key, delayMs: ms });
        },
      )
      .then(() => {
        returned = true;
      });
    // run starts a pass synchronously: one that did not start was deferred.
    return { ...p, result, returned: () => returned, parked: () => !ran, handedBack: () => handedBack };
  }
  return { clock, budget, deferred, releasedErrors, start };
}

describe('defaultTenantCap', () => {
  it('the default cap is a quarter of the workers, at least 2', () => {
    expect([1, 8, 16, 64].map(defaultTenantCap)).toEqual([2, 2, 4, 16]);
  });
});

describe('tenant budget', () => {
  it('a namespace whose passes stay fast is never deferred, however many run at once', async () => {
    const { clock, budget, deferred, start } = setUp();
    for (let round = 0; round < 3; round++) {
      const passes = Array.from({ length: 50 }, (_, i) => start(`team-a/key-${i}`));
      expect(budget.inFlight('team-a')).toBe(50);
      clock.advance(900);
      for (const p of passes) p.finish();
      await flush();
      expect(passes.every((p) => p.returned())).toBe(true);
    }
    expect(deferred).toEqual([]);
    expect(budget.inFlight('team-a')).toBe(0);
  });

  it('passes of a slow namespace beyond the cap give their workers back once they turn slow', async () => {
    const { clock, budget, start } = setUp();
    const slow = Array.from({ length: 5 }, (_, i) => start(`team-b/key-${i}`));
    clock.advance(999);
    await flush();
    expect(slow.filter((p) => p.returned())).toHaveLength(0);
    clock.advance(10);
    await flush();
    // Three of five return their worker; the cap (2) keeps theirs and the namespace keeps 5 in flight.
    expect(slow.filter((p) => p.returned())).toHaveLength(3);
    expect(budget.inFlight('team-b')).toBe(5);
    for (const p of slow) p.finish();
    await flush();
    expect(slow.every((p) => p.returned())).toBe(true);
    expect(budget.inFlight('team-b')).toBe(0);
  });

  it('a slow namespace at its cap has new passes deferred while other namespaces run', async () => {
    const { clock, start, deferred } = setUp();
    const slow = [start('team-b/key-0'), start('team-b/key-1')];
    clock.advance(1_500);
    const next = start('team-b/key-2');
    await next.result;
    expect(next.parked()).toBe(true);
    const victim = start('team-a/new');
    expect(victim.parked()).toBe(false);
    victim.finish();
    await victim.result;
    // team-a's pass ending frees nothing team-b waits for.
    expect(deferred).toEqual([]);
    for (const p of slow) p.finish();
  });

  it('a deferred key goes back to the queue as soon as a pass of its namespace ends, first come first served', async () => {
    const { clock, start, deferred } = setUp();
    const slow = [start('team-b/key-0'), start('team-b/key-1')];
    clock.advance(1_500);
    const waiting = ['team-b/w1', 'team-b/w2', 'team-b/w3'].map((k) => start(k));
    expect(waiting.map((w) => w.parked())).toEqual([true, true, true]);
    // Deferred again while waiting (an informer event queued it once more): it keeps one place in line.
    expect(start('team-b/w1').parked()).toBe(true);
    slow[0]?.finish();
    await flush();
    expect(deferred).toEqual([{ key: 'team-b/w1', delayMs: 0 }]);
    slow[1]?.finish();
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1', 'team-b/w2']);
    // No pass of team-b runs any more and w3 waits: nothing is lost, a later pass's end hands it back.
    const again = start('team-b/w1');
    expect(again.parked()).toBe(false);
    again.finish();
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1', 'team-b/w2', 'team-b/w3']);
  });

  it('a key handed back that no longer belongs to the namespace (its ApiKey left the cache) passes its turn on', async () => {
    const { clock, start, deferred } = setUp();
    const slow = [start('team-b/key-0'), start('team-b/key-1')];
    clock.advance(1_500);
    for (const k of ['team-b/w1', 'team-b/w2']) expect(start(k).parked()).toBe(true);
    slow[0]?.finish();
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1']);
    // w1 comes back with no group (deleted): it runs unbudgeted, and w2 gets the slot w1 was woken for.
    const gone = start('team-b/w1', true);
    expect(gone.parked()).toBe(false);
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1', 'team-b/w2']);
    for (const p of [...slow, gone]) p.finish();
    await flush();
  });

  it('a key woken for a namespace that then waits elsewhere passes its turn on', async () => {
    const { clock, start, deferred } = setUp();
    const shared = ['ClusterRancherConnection/shared'];
    const slowB = [start('team-b/key-0'), start('team-b/key-1')];
    const slowShared = [start('team-c/s0', false, shared), start('team-d/s1', false, shared)];
    clock.advance(1_500);
    expect(start('team-b/w1', false, shared).parked()).toBe(true);
    expect(start('team-b/w2').parked()).toBe(true);
    slowB[0]?.finish();
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1']);
    // team-b has a free slot, but w1 also needs the shared connection, which is still at its cap.
    expect(start('team-b/w1', false, shared).parked()).toBe(true);
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1', 'team-b/w2']);
    for (const p of [...slowB, ...slowShared]) p.finish();
    await flush();
  });

  it('a safety net hands back, within a second, a waiting key that nothing would wake (a turn lost in the queue)', async () => {
    const { clock, start, deferred } = setUp();
    const slow = [start('team-b/key-0'), start('team-b/key-1')];
    clock.advance(1_500);
    for (const k of ['team-b/w1', 'team-b/w2', 'team-b/w3']) expect(start(k).parked()).toBe(true);
    for (const p of slow) p.finish();
    await flush();
    // w1 and w2 were handed back but never ran (as if the queue had dropped them): w3 would wait forever.
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1', 'team-b/w2']);
    clock.advance(1_000);
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w1', 'team-b/w2', 'team-b/w3']);
  });

  it('a deferred key that runs in the meantime is not handed back again later', async () => {
    const { clock, start, deferred } = setUp();
    const slow = [start('team-b/key-0'), start('team-b/key-1')];
    clock.advance(1_500);
    expect(start('team-b/w').parked()).toBe(true);
    slow[0]?.finish();
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w']);
    const ran = start('team-b/w');
    expect(ran.parked()).toBe(false);
    slow[1]?.finish();
    ran.finish();
    await flush();
    expect(deferred.map((d) => d.key)).toEqual(['team-b/w']);
  });

  it('a young burst of a namespace is admitted: slowness needs a pass older than slowAfter', async () => {
    const { clock, start } = setUp();
    const burst = [start('team-b/a'), start('team-b/b')];
    clock.advance(500);
    const third = start('team-b/c');
    expect(third.parked()).toBe(false);
    for (const p of [...burst, third]) p.finish();
    await flush();
  });

  it('a namespace stays slow for slowMemory after its slow passes ended, then runs freely again', async () => {
    const { clock, start } = setUp();
    const slow = [start('team-b/a'), start('team-b/b')];
    clock.advance(5_000);
    for (const p of slow) p.finish();
    await flush();
    const again = [start('team-b/a'), start('team-b/b')];
    expect(start('team-b/c').parked()).toBe(true);
    for (const p of again) p.finish();
    await flush();
    clock.advance(10_001);
    const later = [start('team-b/a'), start('team-b/b'), start('team-b/c')];
    expect(later.map((p) => p.parked())).toEqual([false, false, false]);
    for (const p of later) p.finish();
    await flush();
  });

  it('a key whose released pass still runs is deferred instead of running twice', async () => {
    const { clock, start } = setUp();
    const keys = ['team-b/a', 'team-b/b', 'team-b/c'];
    const first = keys.map((k) => start(k));
    clock.advance(1_001);
    await flush();
    const releasedAt = first.findIndex((p) => p.returned());
    expect(releasedAt).toBeGreaterThanOrEqual(0);
    for (const [i, p] of first.entries()) if (i !== releasedAt) p.finish();
    await flush();
    // The namespace is under its cap again: another key runs, the released key waits for its own pass.
    const other = start('team-b/d');
    expect(other.parked()).toBe(false);
    const again = start(keys[releasedAt] ?? '');
    expect(again.parked()).toBe(true);
    expect(again.handedBack()).toBe(false);
    // It goes back to the queue when its own released pass ends.
    first[releasedAt]?.finish();
    await flush();
    expect(again.handedBack()).toBe(true);
    for (const p of [...first, other]) p.finish();
    await flush();
  });

  it('at most maxReleased passes run without a worker, all namespaces together', async () => {
    const { clock, start } = setUp({ cap: 1, maxReleased: 2 });
    const passes = [
      ...Array.from({ length: 3 }, (_, i) => start(`team-b/k${i}`)),
      ...Array.from({ length: 3 }, (_, i) => start(`team-c/k${i}`)),
    ];
    clock.advance(1_001);
    await flush();
    expect(passes.filter((p) => p.returned())).toHaveLength(2);
    for (const p of passes) p.finish();
    await flush();
  });

  it('a failure before release rejects run; a failure after release is reported, not thrown', async () => {
    const { clock, start, releasedErrors, budget } = setUp({ cap: 1 });
    const held = start('team-b/a');
    const released = start('team-b/b');
    clock.advance(1_001);
    await flush();
    const [stillHeld, gone] = held.returned() ? [released, held] : [held, released];
    const outcome = stillHeld.result.then(
      () => 'resolved',
      () => 'rejected',
    );
    const idle = budget.idle();
    gone.fail(new Error('late'));
    stillHeld.fail(new Error('early'));
    expect(await outcome).toBe('rejected');
    await idle;
    expect(releasedErrors).toEqual([gone === held ? 'team-b/a' : 'team-b/b']);
  });

  it('many namespaces on one slow shared connection hold at most its cap, and others still run', async () => {
    const { clock, budget, start } = setUp({ cap: 2 });
    const shared = ['ClusterRancherConnection/shared'];
    // One pass each from four tenants: no namespace is over its own cap, but the shared connection is.
    const slow = ['team-b', 'team-c', 'team-d', 'team-e'].map((ns) => start(`${ns}/key`, false, shared));
    clock.advance(1_001);
    await flush();
    expect(slow.filter((p) => p.returned())).toHaveLength(2);
    expect(budget.inFlight(shared[0] ?? '')).toBe(4);
    // The shared connection is slow and at its cap: a fifth tenant's pass on it waits, team-a's own runs.
    expect(start('team-f/key', false, shared).parked()).toBe(true);
    const victim = start('team-a/key');
    expect(victim.parked()).toBe(false);
    for (const p of [...slow, victim]) p.finish();
    await flush();
  });

  it('a tenant cannot escape its namespace cap by spreading passes over connections', async () => {
    const { clock, start } = setUp({ cap: 2 });
    const slow = [0, 1, 2, 3].map((i) => start(`team-b/key-${i}`, false, [`conn-${i}`]));
    clock.advance(1_001);
    await flush();
    expect(slow.filter((p) => p.returned())).toHaveLength(2);
    expect(start('team-b/key-9', false, ['conn-9']).parked()).toBe(true);
    for (const p of slow) p.finish();
    await flush();
  });

  it('cluster-scoped keys are not budgeted', async () => {
    const { clock, start } = setUp({ cap: 1 });
    const passes = [start('x', true), start('y', true)];
    clock.advance(5_000);
    expect(start('z', true).parked()).toBe(false);
    for (const p of passes) p.finish();
    await flush();
  });
});
