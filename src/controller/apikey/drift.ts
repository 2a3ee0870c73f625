/** DriftTracker remembers, in memory, when each ApiKey's Rancher key is next due for a drift check. */
export interface DriftTracker {
  /** due is true when the key has never been checked by this process or its check time has come. */
  due(uid: string, now: number): boolean;
  /** checked records a successful Rancher check and schedules the next one with jitter; returns the delay. */
  checked(uid: string, now: number): number;
  forget(uid: string): void;
  /** untilDue returns the milliseconds until the key's next check (0 when due or never checked). */
  untilDue(uid: string, now: number): number;
}

/** createDriftTracker spreads checks over interval * [1 - jitter, 1 + jitter] so they do not come in waves. */
export function createDriftTracker(
  intervalMs: number,
  jitter = 0.1,
  random: () => number = Math.random,
): DriftTracker {
  const next = new Map<string, number>();
  return {
    due: (uid, now) => {
      const at = next.get(uid);
      return at === undefined || now >= at;
    },
    checked: (uid, now) => {
      const delay = Math.round(intervalMs * (1 - jitter + 2 * jitter * random()));
      next.set(uid, now + delay);
      return delay;
    },
    forget: (uid) => {
      next.delete(uid);
    },
    untilDue: (uid, now) => Math.max(0, (next.get(uid) ?? now) - now),
  };
}
