/** TimerHandle is an opaque handle returned by Clock.setTimeout. */
export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

/** Clock is the time source and timer API injected into the queue, leader elector and informer. */
export type Clock = {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
};

/** realClock is the Clock backed by Date.now and the global timers; its timers do not keep the process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => {
    if ('hasRef' in handle) clearTimeout(handle);
  },
};
