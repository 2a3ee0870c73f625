import { describe, expect, it } from 'vitest';
import { createMetrics } from '../observability/metrics.ts';
import { createFakeClock } from './fake-clock.test-support.ts';
import { createWorkQueue, type WorkQueueOptions } from './workqueue.ts';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** harness runs a queue whose worker blocks until the test releases the key. */
function harness(options: Partial<WorkQueueOptions> = {}) {
  const clock = createFakeClock(1_000);
  const errors: Array<[string, unknown]> = [];
  const queue = createWorkQueue({
    name: 'test',
    concurrency: 1,
    clock,
    onError: (key, err) => errors.push([key, err]),
    ...options,
  });
  const started: string[] = [];
  const active = new Map<string, number>();
  let maxSameKey = 0;
  const pending = new Map<string, Array<(err?: Error) => void>>();
  queue.run(async (key) => {
    started.push(key);
    active.set(key, (active.get(key) ?? 0) + 1);
    maxSameKey = Math.max(maxSameKey, active.get(key) ?? 0);
    try {
      await new Promise<void>((resolve, reject) => {
        const list = pending.get(key) ?? [];
        list.push((err) => (err ? reject(err) : resolve()));
        pending.set(key, list);
      });
    } finally {
      active.set(key, (active.get(key) ?? 1) - 1);
    }
  });
  const finish = async (key: string, err?: Error) => {
    const release = pending.get(key)?.shift();
    if (!release) throw new Error(`${key} is not being processed`);
    release(err);
    await flush();
  };
  return {
    queue,
    clock,
    errors,
    started,
    finish,
    maxSameKey: () => maxSameKey,
    activeKeys: () => [...pending].filter(([, l]) => l.length > 0).map(([k]) => k),
  };
}

describe('createWorkQueue dedupe and exclusivity', () => {
  it('adding a queued key is a no-op', async () => {
    const h = harness();
    h.queue.add('a');
    await flush();
    h.queue.add('b');
    h.queue.add('b');
    h.queue.add('c');
    expect(h.queue.len()).toBe(2);
    await h.finish('a');
    await h.finish('b');
    await h.finish('c');
    expect(h.started).toEqual(['a', 'b', 'c']);
  });

  it('a key added while processing runs exactly once more afterwards, never concurrently', async () => {
    const h = harness({ concurrency: 4 });
    h.queue.add('a');
    await flush();
    h.queue.add('a');
    h.queue.add('a');
    await flush();
    expect(h.started).toEqual(['a']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'a']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'a']);
    expect(h.maxSameKey()).toBe(1);
  });

  it('runs at most `concurrency` keys at once', async () => {
    const h = harness({ concurrency: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) h.queue.add(k);
    await flush();
    expect(h.activeKeys()).toEqual(['a', 'b', 'c']);
    expect(h.queue.len()).toBe(2);
    await h.finish('b');
    expect(h.activeKeys()).toEqual(['a', 'c', 'd']);
  });
});

describe('createWorkQueue delays', () => {
  it.each([
    { name: 'a single addAfter fires at its due time', adds: [100], notBefore: 99, at: 100 },
    { name: 'a shorter addAfter moves the due time earlier', adds: [100, 50], notBefore: 49, at: 50 },
    { name: 'a longer addAfter keeps the earlier due time', adds: [50, 200], notBefore: 49, at: 50 },
    { name: 'addAfter with 0 adds immediately', adds: [0], notBefore: -1, at: 0 },
  ])('$name', async ({ adds, notBefore, at }) => {
    const h = harness();
    for (const ms of adds) h.queue.addAfter('k', ms);
    if (notBefore >= 0) {
      h.clock.advance(notBefore);
      await flush();
      expect(h.started).toEqual([]);
    }
    h.clock.advance(at - Math.max(0, notBefore));
    await flush();
    expect(h.started).toEqual(['k']);
    await h.finish('k');
    h.clock.advance(1_000);
    await flush();
    expect(h.started).toEqual(['k']);
  });

  it.each([
    { failures: 1, delay: 5 },
    { failures: 2, delay: 10 },
    { failures: 3, delay: 20 },
    { failures: 5, delay: 80 },
  ])('the $failures. rate-limited retry of a key waits $delay ms', async ({ failures, delay }) => {
    const h = harness({ qps: 1_000, burst: 1_000 });
    const waits: number[] = [];
    for (let i = 0; i < failures; i++) {
      const before = h.clock.now();
      h.queue.addRateLimited('k');
      for (let t = 0; t < 10_000 && h.started.length === i; t++) {
        h.clock.advance(1);
        await flush();
      }
      waits.push(h.clock.now() - before);
      await h.finish('k');
    }
    expect(waits.at(-1)).toBe(delay);
    expect(h.queue.numRequeues('k')).toBe(failures);
  });

  it('caps the per-key backoff at maxDelayMs and forget resets it', async () => {
    const h = harness({ maxDelayMs: 30, qps: 1_000, burst: 1_000 });
    for (let i = 0; i < 10; i++) h.queue.addRateLimited('k');
    h.queue.forget('k');
    expect(h.queue.numRequeues('k')).toBe(0);
    h.clock.advance(30);
    await flush();
    expect(h.started).toEqual(['k']);
  });

  it('the global token bucket delays retries beyond its burst', async () => {
    const h = harness({ qps: 1, burst: 2, concurrency: 3 });
    for (const k of ['a', 'b', 'c']) h.queue.addRateLimited(k);
    h.clock.advance(5);
    await flush();
    expect(h.started).toEqual(['a', 'b']);
    h.clock.advance(994);
    await flush();
    expect(h.started).toEqual(['a', 'b']);
    h.clock.advance(1);
    await flush();
    expect(h.started).toEqual(['a', 'b', 'c']);
  });
});

describe('createWorkQueue errors and shutdown', () => {
  it('reports a worker error through onError and keeps processing', async () => {
    const h = harness();
    h.queue.add('a');
    h.queue.add('b');
    await flush();
    const boom = new Error('boom');
    await h.finish('a', boom);
    expect(h.errors).toEqual([['a', boom]]);
    expect(h.started).toEqual(['a', 'b']);
  });

  it('survives a worker that throws synchronously and an onError that throws', async () => {
    const clock = createFakeClock();
    const seen: string[] = [];
    const queue = createWorkQueue({
      name: 't',
      concurrency: 1,
      clock,
      onError: () => {
        throw new Error('hook');
      },
    });
    queue.run((key) => {
      seen.push(key);
      throw new Error('sync');
    });
    queue.add('a');
    queue.add('b');
    await flush();
    expect(seen).toEqual(['a', 'b']);
    await queue.shutdown({ drain: true });
  });

  it('drain shutdown finishes queued and re-added keys, then ignores new adds', async () => {
    const h = harness();
    h.queue.add('a');
    h.queue.add('b');
    await flush();
    h.queue.add('a'); // dirty while processing
    h.queue.addAfter('later', 10);
    let resolved = false;
    const stopped = h.queue.shutdown({ drain: true }).then(() => {
      resolved = true;
    });
    h.queue.add('c');
    await h.finish('a');
    await h.finish('b');
    expect(resolved).toBe(false);
    await h.finish('a');
    await stopped;
    h.clock.advance(100);
    expect(h.started).toEqual(['a', 'b', 'a']);
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('non-drain shutdown drops queued keys but waits for the running one', async () => {
    const h = harness();
    h.queue.add('a');
    h.queue.add('b');
    await flush();
    h.queue.add('a');
    let resolved = false;
    const stopped = h.queue.shutdown({ drain: false }).then(() => {
      resolved = true;
    });
    await flush();
    expect(resolved).toBe(false);
    await h.finish('a');
    await stopped;
    expect(h.started).toEqual(['a']);
    expect(h.queue.len()).toBe(0);
  });
});

describe('createWorkQueue metrics', () => {
  it('reports adds, depth, retries and durations under the queue name', async () => {
    const metrics = createMetrics();
    const h = harness({ name: 'apikey', metrics: metrics.workqueue('apikey') });
    h.queue.add('a');
    h.queue.add('b');
    h.queue.add('c');
    await flush();
    h.queue.addRateLimited('z');
    h.clock.advance(2);
    const text = await metrics.registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="apikey"} 3');
    expect(text).toContain('workqueue_depth{name="apikey"} 2');
    expect(text).toContain('workqueue_retries_total{name="apikey"} 1');
    expect(text).toContain('workqueue_longest_running_processor_seconds{name="apikey"} 0.002');
    await h.finish('a');
    expect(await metrics.registry.metrics()).toContain(
      'workqueue_work_duration_seconds_count{name="apikey"} 1',
    );
  });
});

describe('createWorkQueue typed keys', () => {
  type Ref = { namespace: string; name: string };
  const ref = (namespace: string, name: string): Ref => ({ namespace, name });

  it('keys with the same id are one item and the worker receives the typed key, also after a delay', async () => {
    const clock = createFakeClock(1_000);
    const queue = createWorkQueue<Ref>({
      name: 'typed',
      concurrency: 1,
      clock,
      keyOf: (k) => `${k.namespace}/${k.name}`,
    });
    const seen: Ref[] = [];
    queue.add(ref('team-a', 'ci'));
    queue.add(ref('team-a', 'ci'));
    queue.addAfter(ref('team-b', 'ci'), 100);
    queue.run(async (k) => void seen.push(k));
    await flush();
    expect(seen).toEqual([ref('team-a', 'ci')]);
    clock.advance(100);
    await flush();
    expect(seen).toEqual([ref('team-a', 'ci'), ref('team-b', 'ci')]);
    await queue.shutdown({ drain: true });
  });

  it('backoff is counted per id, not per object', async () => {
    const queue = createWorkQueue<Ref>({
      name: 'typed',
      concurrency: 1,
      clock: createFakeClock(1_000),
      keyOf: (k) => `${k.namespace}/${k.name}`,
    });
    queue.addRateLimited(ref('team-a', 'ci'));
    queue.addRateLimited(ref('team-a', 'ci'));
    expect(queue.numRequeues(ref('team-a', 'ci'))).toBe(2);
    queue.forget(ref('team-a', 'ci'));
    expect(queue.numRequeues(ref('team-a', 'ci'))).toBe(0);
    await queue.shutdown({ drain: false });
  });
});
