import type { WorkQueueMetrics } from '../observability/metrics.ts';
import { type Clock, realClock, type TimerHandle } from './clock.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { createDelayHeap } from './workqueue-delay.ts';

/** WorkQueueOptions configures createWorkQueue; delays are ms, defaults follow client-go. */
export type WorkQueueOptions<K = string> = {
  name: string;
  /**
   * keyOf is a key's id: two keys with the same id are the same item. Keys that are not strings need one;
   * the default, String(key), suits string keys only.
   */
  keyOf?: (key: K) => string;
  concurrency: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  qps?: number;
  burst?: number;
  clock?: Clock;
  metrics?: WorkQueueMetrics;
  /** onError receives every error a worker throws; the queue itself never requeues on error. */
  onError?: (key: K, err: unknown) => void;
};

/** Worker reconciles one key; a rejection is reported through onError and never crashes the queue. */
export type Worker<K = string> = (key: K) => Promise<void>;

/** WorkQueue is a deduplicating, rate-limited queue of keys with client-go semantics. */
export type WorkQueue<K = string> = {
  add(key: K): void;
  addAfter(key: K, ms: number): void;
  addRateLimited(key: K): void;
  forget(key: K): void;
  numRequeues(key: K): number;
  len(): number;
  run(worker: Worker<K>): void;
  shutdown(options: { drain: boolean }): Promise<void>;
};

/**
 * createWorkQueue returns a WorkQueue: a key is never processed by two workers at once, adding a queued key
 * is a no-op, adding a key under processing runs it once more afterwards, addAfter keeps the earliest due
 * time, and addRateLimited delays by max(per-key exponential backoff, global token bucket).
 */
export function createWorkQueue<K = string>(options: WorkQueueOptions<K>): WorkQueue<K> {
  const keyOf = options.keyOf ?? String;
  // Internally every structure holds ids; `keys` maps an id back to the typed key while the queue tracks it.
  const keys = new Map<string, K>();
  const clock = options.clock ?? realClock;
  const metrics = options.metrics;
  const limiter = createRateLimiter({
    baseDelayMs: options.baseDelayMs ?? 5,
    maxDelayMs: options.maxDelayMs ?? 300_000,
    qps: options.qps ?? 10,
    burst: options.burst ?? 100,
    clock,
  });
  const ready = createFifo();
  const dirty = new Set<string>();
  const processing = new Map<string, number>(); // key -> start time
  const addedAt = new Map<string, number>();
  const delayed = createDelayHeap();
  const waiters: Array<(key: string | undefined) => void> = [];
  let timer: TimerHandle | undefined;
  let shuttingDown = false;
  let dropQueued = false;
  let workers: Promise<void>[] = [];

  metrics?.setInFlightProbe(() => {
    const now = clock.now();
    let unfinished = 0;
    let longest = 0;
    for (const start of processing.values()) {
      unfinished += now - start;
      longest = Math.max(longest, now - start);
    }
    return { unfinishedSeconds: unfinished / 1000, longestRunningSeconds: longest / 1000 };
  });

  const add = (key: string) => {
    if (shuttingDown || dirty.has(key)) return;
    dirty.add(key);
    addedAt.set(key, clock.now());
    metrics?.added();
    if (!processing.has(key)) enqueueReady(key);
  };

  const enqueueReady = (key: string) => {
    const waiter = waiters.shift();
    if (waiter) return take(key, waiter);
    ready.push(key);
    metrics?.setDepth(ready.size());
  };

  // take hands key to a worker: it leaves the dirty set and enters processing.
  const take = (key: string, deliver: (key: string) => void) => {
    dirty.delete(key);
    const now = clock.now();
    processing.set(key, now);
    metrics?.observeQueueDuration((now - (addedAt.get(key) ?? now)) / 1000);
    addedAt.delete(key);
    deliver(key);
  };

  const next = (): Promise<string | undefined> =>
    new Promise((resolve) => {
      const key = ready.shift();
      if (key !== undefined) {
        metrics?.setDepth(ready.size());
        return take(key, resolve);
      }
      if (shuttingDown) return resolve(undefined);
      waiters.push(resolve);
    });

  const done = (key: string) => {
    const start = processing.get(key) ?? clock.now();
    processing.delete(key);
    metrics?.observeWorkDuration((clock.now() - start) / 1000);
    // A key added while it was processing runs once more, also while draining (the add came first).
    if (!dirty.has(key)) {
      if (!delayed.has(key)) keys.delete(key);
      return;
    }
    if (dropQueued) dirty.delete(key);
    else enqueueReady(key);
  };

  const armTimer = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    const due = delayed.peekDue();
    if (due === undefined || shuttingDown) return;
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        for (const key of delayed.popDue(clock.now())) add(key);
        armTimer();
      },
      Math.max(0, due - clock.now()),
    );
  };

  const addAfter = (key: string, ms: number) => {
    if (shuttingDown) return;
    if (ms <= 0) return add(key);
    if (delayed.add(key, clock.now() + ms)) armTimer();
  };

  const workerLoop = async (worker: Worker<K>) => {
    for (let id = await next(); id !== undefined; id = await next()) {
      const key = keys.get(id) as K;
      try {
        await worker(key);
      } catch (err) {
        report(key, err);
      } finally {
        done(id);
      }
    }
  };

  /** track remembers the typed key of an id the queue is about to hold, and returns the id. */
  const track = (key: K): string => {
    const id = keyOf(key);
    if (!shuttingDown) keys.set(id, key);
    return id;
  };

  const report = (key: K, err: unknown) => {
    try {
      options.onError?.(key, err);
    } catch {
      // An onError hook that throws must not stop the worker.
    }
  };

  return {
    add: (key) => add(track(key)),
    addAfter: (key, ms) => addAfter(track(key), ms),
    addRateLimited(key) {
      if (shuttingDown) return;
      metrics?.retried();
      const id = track(key);
      addAfter(id, limiter.when(id));
    },
    forget: (key) => limiter.forget(keyOf(key)),
    numRequeues: (key) => limiter.numRequeues(keyOf(key)),
    len: () => ready.size(),
    run(worker) {
      const count = Math.max(1, Math.floor(options.concurrency));
      for (let i = 0; i < count; i++) workers.push(workerLoop(worker));
    },
    async shutdown({ drain }) {
      shuttingDown = true;
      delayed.clear();
      armTimer();
      if (!drain) {
        dropQueued = true;
        for (const key of ready.drain()) dirty.delete(key);
        metrics?.setDepth(0);
      }
      for (const waiter of waiters.splice(0)) waiter(undefined);
      await Promise.all(workers);
      workers = [];
    },
  };
}

/** createFifo is an O(1) amortised FIFO of keys. */
function createFifo() {
  let items: string[] = [];
  let head = 0;
  return {
    push: (key: string) => void items.push(key),
    shift(): string | undefined {
      if (head >= items.length) return undefined;
      const key = items[head++];
      if (head > 1024 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
      return key;
    },
    size: () => items.length - head,
    drain(): string[] {
      const rest = items.slice(head);
      items = [];
      head = 0;
      return rest;
    },
  };
}
