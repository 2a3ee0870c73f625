import type { Clock, TimerHandle } from './clock.ts';

// Test-only (excluded from the build, and production code may not import it: see .dependency-cruiser.cjs).

/** FakeClock is a manual Clock for tests: time moves only through advance(). */
export type FakeClock = Clock & {
  /** advance moves time forward by ms, firing due timers in order (each at its own due time). */
  advance(ms: number): void;
  /** pendingTimers is the number of timers not yet fired or cleared. */
  pendingTimers(): number;
};

/** createFakeClock returns a FakeClock starting at `start` ms (default 0). */
export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { due: number; fn: () => void }>();
  const idOf = (handle: TimerHandle): number | undefined => ('id' in handle ? handle.id : undefined);
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return { id };
    },
    clearTimeout(handle) {
      const id = idOf(handle);
      if (id !== undefined) timers.delete(id);
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let earliest: [number, { due: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].due <= target && (!earliest || entry[1].due < earliest[1].due)) earliest = entry;
        }
        if (!earliest) break;
        timers.delete(earliest[0]);
        now = Math.max(now, earliest[1].due);
        earliest[1].fn();
      }
      now = target;
    },
    pendingTimers: () => timers.size,
  };
}
