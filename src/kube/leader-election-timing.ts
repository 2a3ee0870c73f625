import type { Clock, TimerHandle } from '../runtime/clock.ts';

/** Sleeper waits on the injected clock; cancel() wakes every sleeper now and makes later sleeps return at once. */
export type Sleeper = { sleep(ms: number): Promise<void>; cancel(): void };

/** createSleeper returns a Sleeper on `clock`. */
export function createSleeper(clock: Clock): Sleeper {
  let cancelled = false;
  const sleepers = new Set<() => void>();
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (cancelled) return resolve();
        let handle: TimerHandle | undefined;
        const wake = () => {
          if (handle !== undefined) clock.clearTimeout(handle);
          sleepers.delete(wake);
          resolve();
        };
        sleepers.add(wake);
        handle = clock.setTimeout(wake, ms);
      }),
    cancel() {
      cancelled = true;
      for (const wake of [...sleepers]) wake();
    },
  };
}

/** withDeadline settles like `promise`, or rejects once `ms` have passed on `clock` (the work is not aborted). */
export function withDeadline<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<T> {
  let handle: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    handle = clock.setTimeout(() => reject(new Error('lease request timed out')), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (handle !== undefined) clock.clearTimeout(handle);
  });
}
