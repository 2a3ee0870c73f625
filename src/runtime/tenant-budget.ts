import type { Clock, TimerHandle } from './clock.ts';

/** TenantBudgetOptions configures createTenantBudget; durations are ms. */
export interface TenantBudgetOptions {
  /** cap is how many passes of one slow budget group (a namespace, a shared connection) may run at once. */
  cap: number;
  /** slowAfterMs is how long a pass may run before its groups count as slow. */
  slowAfterMs: number;
  /** maxReleased bounds the slow passes, all groups together, that may run without a worker. */
  maxReleased: number;
  /** deferMs is the delay before a deferred pass is tried again (jittered between 1x and 1.5x). */
  deferMs?: number;
  /** slowMemoryMs is how long a group stays slow after a slow pass ended (default 30 s). */
  slowMemoryMs?: number;
  clock: Clock;
  random?: () => number;
  /** onDeferred names the group whose budget deferred a pass. */
  onDeferred?(group: string): void;
  /** onReleased names the first over-budget group of a pass that gave its worker back. */
  onReleased?(group: string): void;
  /** onReleasedError receives what a pass throws after it released its worker. */
  onReleasedError?(key: string, err: unknown): void;
}

/** TenantBudget runs queue passes within per-group budgets (see createTenantBudget). */
export interface TenantBudget {
  /**
   * run starts `pass` for `key` (a queue id), spending the budget of each of its `groups` (its namespace, and
   * a connection that namespaces share), or, when one group is over budget or the key still runs, calls
   * `defer` with a delay and returns at once. A pass in no group (a cluster-scoped object) is not budgeted.
   * The returned promise settles when the pass ends or when it released its worker (the pass then goes on
   * and reports its own result).
   */
  run(
    key: string,
    groups: readonly string[],
    pass: () => Promise<void>,
    defer: (delayMs: number) => void,
  ): Promise<void>;
  /** inFlight counts the running passes of a group, released ones included. */
  inFlight(group: string): number;
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
 * createTenantBudget keeps one slow or hostile Rancher from taking every worker. A group (a namespace: every
 * connection of one tenant; or a connection many namespaces share) is slow while one of its passes has run
 * longer than slowAfterMs, or for slowMemoryMs after such a pass ended. A slow group runs at most `cap`
 * passes: further passes are deferred without running, and passes beyond the cap that turn slow release
 * their worker to other groups (they finish on their own, at most maxReleased at a time). A pass belongs to
 * all its groups at once, so a tenant cannot escape its namespace's cap by using many connections, and many
 * tenants cannot together hold every worker on one slow shared connection. A group whose passes stay fast is
 * never deferred, however many it runs.
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

  function isSlow(group: string, now: number): boolean {
    if ((slowUntil.get(group) ?? 0) > now) return true;
    for (const p of running.get(group) ?? []) if (now - p.startedAt > o.slowAfterMs) return true;
    return false;
  }

  function holdingCount(group: string): number {
    let n = 0;
    for (const p of running.get(group) ?? []) if (p.holding) n++;
    return n;
  }

  function finish(groups: readonly string[], pass: Pass): void {
    const now = o.clock.now();
    for (const g of groups) {
      if (now - pass.startedAt > o.slowAfterMs) slowUntil.set(g, now + slowMemoryMs);
      else if ((slowUntil.get(g) ?? 0) <= now) slowUntil.delete(g);
      const set = running.get(g);
      set?.delete(pass);
      if (set?.size === 0) running.delete(g);
    }
    runningKeys.delete(pass.key);
    if (!pass.holding) released--;
    if (released === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  function start(groups: readonly string[], key: string, pass: () => Promise<void>): Promise<void> {
    const entry: Pass = { key, startedAt: o.clock.now(), holding: true };
    runningKeys.add(key);
    for (const g of groups) running.set(g, (running.get(g) ?? new Set<Pass>()).add(entry));
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined = o.clock.setTimeout(() => {
        timer = undefined;
        const over = groups.find((g) => holdingCount(g) > o.cap);
        if (over === undefined || released >= o.maxReleased) return;
        entry.holding = false;
        released++;
        o.onReleased?.(over);
        resolve();
      }, o.slowAfterMs + 1);
      pass().then(
        () => {
          if (timer !== undefined) o.clock.clearTimeout(timer);
          finish(groups, entry);
          resolve();
        },
        (err: unknown) => {
          if (timer !== undefined) o.clock.clearTimeout(timer);
          const wasHolding = entry.holding;
          finish(groups, entry);
          if (wasHolding) reject(err);
          else o.onReleasedError?.(key, err);
        },
      );
    });
  }

  return {
    async run(key, groups, pass, defer) {
      if (groups.length === 0) return pass();
      const now = o.clock.now();
      const busy = groups.find((g) => (running.get(g)?.size ?? 0) >= o.cap && isSlow(g, now));
      if (runningKeys.has(key) || busy !== undefined) {
        o.onDeferred?.(busy ?? groups[0] ?? '');
        defer(Math.round(deferMs * (1 + random() / 2)));
        return;
      }
      return start(groups, key, pass);
    },
    inFlight: (g) => running.get(g)?.size ?? 0,
    idle: () => (released === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
  };
}
