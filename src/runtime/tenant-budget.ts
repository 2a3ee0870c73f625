import type { Clock, TimerHandle } from './clock.ts';

/** TenantBudgetOptions configures createTenantBudget; durations are ms. */
export interface TenantBudgetOptions {
  /** cap is how many passes of one slow budget group (a namespace, a shared connection) may run at once. */
  cap: number;
  /** slowAfterMs is how long a pass may run before its groups count as slow. */
  slowAfterMs: number;
  /** maxReleased bounds the slow passes, all groups together, that may run without a worker. */
  maxReleased: number;
  /** slowMemoryMs is how long a group stays slow after a slow pass ended (default 30 s). */
  slowMemoryMs?: number;
  clock: Clock;
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
   * a connection that namespaces share), or, when one group is over budget or the key still runs, parks the
   * key and returns at once: `defer(0)` is called when a pass of that group (or the key's own pass) ends, so
   * the key is tried again as soon as it could run. A pass in no group (a cluster-scoped object) is not
   * budgeted.
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

/** ownPassOf is where a key waits for its own released pass to end (not a group name: groups have no NUL). */
const OWN_PASS = '\u0000';
const ownPassOf = (key: string) => `${OWN_PASS}${key}`;
/** SWEEP_MS is how often waiting keys are checked by the safety net (armSweep). */
const SWEEP_MS = 1_000;

/** defaultTenantCap is the cap used when none is configured: a quarter of the workers, at least 2. */
export function defaultTenantCap(concurrency: number): number {
  return Math.max(2, Math.floor(concurrency / 4));
}

/**
 * createTenantBudget keeps one slow or hostile Rancher from taking every worker. A group (a namespace: every
 * connection of one tenant; or a connection many namespaces share) is slow while one of its passes has run
 * longer than slowAfterMs, or for slowMemoryMs after such a pass ended. A slow group runs at most `cap`
 * passes: further passes are deferred without running, and passes beyond the cap that turn slow release
 * their worker to other groups (they finish on their own, at most maxReleased at a time). A deferred key waits,
 * first come first served, for a pass of its group to end, and is handed back to the queue then: no worker
 * sits idle while a deferred key could run (a timed retry left workers idle under a machine-wide slowdown,
 * when every namespace turns slow at once, and halved a burst's rate). A pass belongs to
 * all its groups at once, so a tenant cannot escape its namespace's cap by using many connections, and many
 * tenants cannot together hold every worker on one slow shared connection. A group whose passes stay fast is
 * never deferred, however many it runs.
 */
export function createTenantBudget(o: TenantBudgetOptions): TenantBudget {
  const slowMemoryMs = o.slowMemoryMs ?? 30_000;
  const running = new Map<string, Set<Pass>>();
  const runningKeys = new Set<string>();
  const slowUntil = new Map<string, number>();
  let released = 0;
  let idleWaiters: Array<() => void> = [];
  // Deferred keys by what they wait for (a group, or their own released pass), in arrival order; a key waits
  // in one place only.
  const parked = new Map<string, Map<string, (delayMs: number) => void>>();
  const parkedIn = new Map<string, string>();
  // Where each key handed back to the queue was waiting: if it then does not run there (its ApiKey left the
  // cache, or it waits elsewhere), its turn passes to the next key waiting at that place.
  const wokenFrom = new Map<string, string>();
  let sweepTimer: TimerHandle | undefined;

  function unpark(key: string): void {
    const place = parkedIn.get(key);
    if (place === undefined) return;
    parkedIn.delete(key);
    const waiting = parked.get(place);
    waiting?.delete(key);
    if (waiting?.size === 0) parked.delete(place);
  }

  function park(place: string, key: string, defer: (delayMs: number) => void): void {
    // Deferred again while it waits at the same place (queued once more): it keeps its place in line.
    if (parkedIn.get(key) !== place) unpark(key);
    parkedIn.set(key, place);
    const waiting = parked.get(place) ?? new Map<string, (delayMs: number) => void>();
    parked.set(place, waiting.set(key, defer));
    armSweep();
  }

  /** wake hands the longest-waiting key of `place` back to the queue. */
  function wake(place: string): void {
    const first = parked.get(place)?.entries().next();
    if (!first || first.done) return;
    const [key, defer] = first.value;
    unpark(key);
    wokenFrom.set(key, place);
    defer(0);
  }

  /** passTurn gives the turn `key` was woken for to the next key at that place, unless it is used `at`. */
  function passTurn(key: string, at: string | undefined): void {
    const from = wokenFrom.get(key);
    if (from === undefined) return;
    wokenFrom.delete(key);
    if (from !== at) wake(from);
  }

  /**
   * armSweep checks the waiting keys every SWEEP_MS while any wait, and hands back those that could run now:
   * a safety net under the turn passing, so that no path that loses a turn can strand a key.
   */
  function armSweep(): void {
    if (sweepTimer !== undefined) return;
    sweepTimer = o.clock.setTimeout(() => {
      sweepTimer = undefined;
      const now = o.clock.now();
      for (const [place, waiting] of [...parked]) {
        const own = place.startsWith(OWN_PASS);
        let free = own
          ? Number(!runningKeys.has(place.slice(OWN_PASS.length)))
          : isSlow(place, now)
            ? o.cap - (running.get(place)?.size ?? 0)
            : waiting.size;
        while (free-- > 0 && parked.has(place)) wake(place);
      }
      if (parked.size > 0) armSweep();
    }, SWEEP_MS);
  }

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
    for (const g of groups) wake(g);
    wake(ownPassOf(pass.key));
    if (!pass.holding) released--;
    if (parked.size === 0 && sweepTimer !== undefined) {
      o.clock.clearTimeout(sweepTimer);
      sweepTimer = undefined;
    }
    if (released === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  function start(groups: readonly string[], key: string, pass: () => Promise<void>): Promise<void> {
    const entry: Pass = { key, startedAt: o.clock.now(), holding: true };
    unpark(key);
    passTurn(
      key,
      groups.find((g) => g === wokenFrom.get(key)),
    );
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
      if (groups.length === 0) {
        // No budget (a cluster-scoped object, or an ApiKey no longer cached): it no longer waits anywhere.
        unpark(key);
        passTurn(key, undefined);
        return pass();
      }
      const now = o.clock.now();
      const busy = groups.find((g) => (running.get(g)?.size ?? 0) >= o.cap && isSlow(g, now));
      if (runningKeys.has(key) || busy !== undefined) {
        o.onDeferred?.(busy ?? groups[0] ?? '');
        const place = busy ?? ownPassOf(key);
        park(place, key, defer);
        passTurn(key, place);
        return;
      }
      return start(groups, key, pass);
    },
    inFlight: (g) => running.get(g)?.size ?? 0,
    idle: () => (released === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
  };
}
