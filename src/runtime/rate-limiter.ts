import type { Clock } from './clock.ts';

/** RateLimiterOptions configures createRateLimiter (client-go DefaultControllerRateLimiter parameters). */
export type RateLimiterOptions = {
  baseDelayMs: number;
  maxDelayMs: number;
  qps: number;
  burst: number;
  clock: Clock;
};

/** RateLimiter decides how long a failed key waits before it is retried. */
export type RateLimiter = {
  /** when records one more failure of key and returns its retry delay in ms. */
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
};

/**
 * createRateLimiter combines a per-key exponential backoff (base * 2^failures, capped at maxDelayMs) with a
 * global token bucket (qps, burst) and returns the larger delay, like client-go's
 * DefaultControllerRateLimiter.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const failures = new Map<string, number>();
  const bucket = createTokenBucket(options.qps, options.burst, options.clock);
  return {
    when(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      // Cap the exponent so 2^n never overflows to Infinity.
      const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(n, 62));
      return Math.max(backoff, bucket.reserve());
    },
    forget: (key) => void failures.delete(key),
    numRequeues: (key) => failures.get(key) ?? 0,
  };
}

/** createTokenBucket returns a bucket whose reserve() takes one token and says how long to wait for it (ms). */
export function createTokenBucket(qps: number, burst: number, clock: Clock): { reserve(): number } {
  let tokens = burst;
  let last = clock.now();
  return {
    reserve() {
      const now = clock.now();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * qps);
      last = now;
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil((-tokens / qps) * 1000);
    },
  };
}
