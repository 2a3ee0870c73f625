import type { Clock, TimerHandle } from './clock.ts';

/** TenantBudgetOptions configures createTenantBudget; durations are ms. */
export interface TenantBudgetOptions {
  /** cap is how many passes of one slow namespace may run at once (and hold a worker). */
  cap: number;
  /** slowAfterMs is how long a pass may run before its namespace counts as slow. */
  slowAfterMs: number;
  /** maxReleased bounds the slow passes, all namespaces together, that may run without a worker. */
  maxReleased: number;
  /** deferMs is the delay before a deferred pass is tried again (jittered between 1x and 1.5x). */
  deferMs?: number;
  /** slowMemoryMs is how long a namespace stays slow after a slow pass ended (default 30 s). */
  slowMemoryMs?: number;
  clock: Clock;
  random?: () => number;
  onDeferred?(namespace: string): void;
  onReleased?(namespace: string): void;
  /** onReleasedError receives what a pass throws after it released its worker. */
  onReleasedError?(key: string, err: unknown): void;
}

/** TenantBudget runs queue passes within a per-namespace budget (see createTenantBudget). */
export interface TenantBudget {
  /**
   * run starts `pass` for `key` (a queue id) in `namespace`, or, when the namespace is over budget or the key
   * still runs, calls `defer` with a delay and returns at once. A pass without a namespace (a cluster-scoped
   * object) is not budgeted. The returned promise settles when the pass ends or when it
   * released its worker (the pass then goes on and reports its own result).
   */
  run(
    key: string,
    namespace: string | undefined,
    pass: () => Promise<void>,
    defer: (delayMs: number) => void,
  ): Promise<void>;
  /** inFlight counts the running passes of a namespace, released ones included. */
  inFlight(namespace: string): number;
  /** idle resolves once no released pass is running. */
  idle(): Promise<void>;
}

interface Pass {
  key: string;
  startedAt: number;
  holding: boolean;
}

/** defaultTenantCap is the cap used when none is configured: a quarter of the workers, at least 2. */
export function defaultTenantCap(concurrency: number): number {
  return Math.max(2, Math.floor(concurrency / 4));
}

/**
 * createTenantBudget keeps one slow or hostile Rancher from taking every worker. A namespace is slow while
 * one of its passes has run longer than slowAfterMs, or for slowMemoryMs after such a pass ended. A slow
 * namespace runs at most `cap` passes: further passes are deferred without running, and passes beyond the
 * cap that turn slow release their worker to other namespaces (they finish on their own, at most
 * maxReleased at a time). A namespace whose passes stay fast is never deferred, however many it runs.
 */
export function createTenantBudget(o: TenantBudgetOptions): TenantBudget {
  const deferMs = o.deferMs ?? 1_000;
  const slowMemoryMs = o.slowMemoryMs ?? 30_000;
  const random = o.random ?? Math.random;
  const running = new Map<string, Set<Pass>>();
  const runningKeys = new Set<string>();
  const slowUntil = new Map<string, number>();
  let released = 0;
  let idleWaiters: Array<() => void> = [];

  function isSlow(ns: string, now: number): boolean {
    if ((slowUntil.get(ns) ?? 0) > now) return true;
    for (const p of running.get(ns) ?? []) if (now - p.startedAt > o.slowAfterMs) return true;
    return false;
  }

  function holdingCount(ns: string): number {
    let n = 0;
    for (const p of running.get(ns) ?? []) if (p.holding) n++;
    return n;
  }

  function finish(ns: string, pass: Pass): void {
    const now = o.clock.now();
    if (now - pass.startedAt > o.slowAfterMs) slowUntil.set(ns, now + slowMemoryMs);
    else if ((slowUntil.get(ns) ?? 0) <= now) slowUntil.delete(ns);
    runningKeys.delete(pass.key);
    const set = running.get(ns);
    set?.delete(pass);
    if (set?.size === 0) running.delete(ns);
    if (!pass.holding) released--;
    if (released === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  function start(ns: string, key: string, pass: () => Promise<void>): Promise<void> {
    const entry: Pass = { key, startedAt: o.clock.now(), holding: true };
    runningKeys.add(key);
    const set = running.get(ns) ?? new Set<Pass>();
    running.set(ns, set.add(entry));
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined = o.clock.setTimeout(() => {
        timer = undefined;
        if (holdingCount(ns) <= o.cap || released >= o.maxReleased) return;
        entry.holding = false;
        released++;
        o.onReleased?.(ns);
        resolve();
      }, o.slowAfterMs + 1);
      pass().then(
        () => {
          if (timer !== undefined) o.clock.clearTimeout(timer);
          finish(ns, entry);
          resolve();
        },
        (err: unknown) => {
          if (timer !== undefined) o.clock.clearTimeout(timer);
          const wasHolding = entry.holding;
          finish(ns, entry);
          if (wasHolding) reject(err);
          else o.onReleasedError?.(key, err);
        },
      );
    });
  }

  return {
    async run(key, ns, pass, defer) {
      if (ns === undefined) return pass();
      const now = o.clock.now();
      const busy = (running.get(ns)?.size ?? 0) >= o.cap && isSlow(ns, now);
      if (runningKeys.has(key) || busy) {
        o.onDeferred?.(ns);
        defer(Math.round(deferMs * (1 + random() / 2)));
        return;
      }
      return start(ns, key, pass);
    },
    inFlight: (ns) => running.get(ns)?.size ?? 0,
    idle: () => (released === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
  };
}
