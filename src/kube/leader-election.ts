import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.ts';
import { type Clock, realClock } from '../runtime/clock.ts';
import {
  createLeaseProblemReporter,
  diagnoseLeaseError,
  type LeaseProblem,
} from './leader-election-diagnosis.ts';
import type { Lease, LeaseApi, LeaseRecord } from './leader-election-lease-api.ts';
import { createSleeper, withDeadline } from './leader-election-timing.ts';

export type { LeaseProblem } from './leader-election-diagnosis.ts';
export { type Lease, type LeaseApi, type LeaseRecord, leaseApiFrom } from './leader-election-lease-api.ts';

/** LeaderElectorOptions configures createLeaderElector; durations are ms (client-go: 15s / 10s / 2s). */
export type LeaderElectorOptions = {
  leases: LeaseApi;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: { setLeader(name: string, leading: boolean): void };
  /** random in [0, 1) for retry jitter; injectable for tests. */
  random?: () => number;
  /** releaseOnCancel clears the holder on stop() so a standby takes over at once (default true). */
  releaseOnCancel?: boolean;
  onStartedLeading: () => void | Promise<void>;
  /** onStoppedLeading runs once after leading ends: `lost` (renewal failed: exit the process) or `stopped`. */
  onStoppedLeading: (reason: StopReason) => void | Promise<void>;
};

/** StopReason says why leading ended: the Lease could not be renewed, or stop() was called. */
export type StopReason = 'lost' | 'stopped';

/** LeaderElector campaigns for a Lease and holds it until it fails to renew or is stopped. */
export type LeaderElector = {
  /** run acquires, then renews until leadership is lost or stop() is called; it never rejects. */
  run(): Promise<void>;
  /** stop ends run(), releasing the Lease if held, and resolves when run() has returned. */
  stop(): Promise<void>;
  isLeader(): boolean;
  /**
   * problem says why the last attempt to acquire the Lease failed (reason and remedy), or undefined while the
   * Lease is reachable: held by this replica, held by another (standby), or not tried yet.
   */
  problem(): LeaseProblem | undefined;
};

const JITTER_FACTOR = 1.2;
/** A lease that stays unreachable is warned about at most once per minute (the first failure at once). */
const PROBLEM_WARN_INTERVAL_MS = 60_000;

/** leaderIdentity returns a unique holder identity: the pod name (or host name) plus a random suffix. */
export function leaderIdentity(podName?: string): string {
  return `${podName || hostname()}_${randomBytes(4).toString('hex')}`;
}

/**
 * createLeaderElector implements client-go's Lease leader election: expiry is judged from the local time
 * the record was last seen to change (not the record's renewTime), writes are optimistic (resourceVersion),
 * renewal failing for renewDeadline ends leadership, and a clean stop releases the Lease.
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const log = options.logger;
  const { leases, namespace, name, identity } = options;
  const leaseSeconds = Math.max(1, Math.round(options.leaseDurationMs / 1000));
  let observed: Lease | undefined;
  let observedTime = 0;
  let leading = false;
  let stopped = false;
  let running: Promise<void> | undefined;
  const sleeper = createSleeper(clock);
  const sleep = sleeper.sleep;
  const deadline = <T>(promise: Promise<T>, ms: number) => withDeadline(clock, promise, ms);
  let lastError: unknown;
  let standbyBehind = '';
  const problems = createLeaseProblemReporter({
    lease: `${namespace}/${name}`,
    intervalMs: PROBLEM_WARN_INTERVAL_MS,
    now: () => clock.now(),
    warn: (fields, message) => log?.warn(fields, message),
    info: (fields, message) => log?.info(fields, message),
  });

  const observedHolder = () => observed?.record.holderIdentity ?? '';
  const isLeaseValid = (now: number) =>
    observedTime + (observed?.record.leaseDurationSeconds ?? 0) * 1000 > now;
  const observe = (lease: Lease, now: number) => {
    observed = lease;
    observedTime = now;
  };

  // tryAcquireOrRenew is client-go's: one attempt to take or keep the Lease; false means "not leader now".
  const tryAcquireOrRenew = async (timeoutMs: number): Promise<boolean> => {
    lastError = undefined;
    const now = clock.now();
    const desired: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    if (observed && observedHolder() === identity && isLeaseValid(now)) {
      // Fast path: renew with the cached resourceVersion, no GET.
      const record = { ...desired, ...keep(observed.record) };
      try {
        observe(
          await deadline(leases.replace(namespace, name, observed.resourceVersion, record), timeoutMs),
          now,
        );
        return true;
      } catch (err) {
        log?.debug({ err, lease: name }, 'cannot renew lease with cached version; reading it');
      }
    }
    try {
      const current = await deadline(leases.read(namespace, name), timeoutMs);
      if (!current) {
        observe(await deadline(leases.create(namespace, name, desired), timeoutMs), now);
        return true;
      }
      if (!observed || !sameRecord(observed.record, current.record)) observe(current, now);
      else observed = current;
      const holder = current.record.holderIdentity;
      if (holder !== '' && holder !== identity && isLeaseValid(now)) return false;
      const record =
        holder === identity
          ? { ...desired, ...keep(current.record) }
          : { ...desired, leaseTransitions: current.record.leaseTransitions + 1 };
      observe(
        await deadline(leases.replace(namespace, name, current.resourceVersion, record), timeoutMs),
        now,
      );
      return true;
    } catch (err) {
      lastError = err;
      log?.debug({ err, lease: name }, 'cannot acquire or renew lease');
      return false;
    }
  };

  // noteAttempt keeps the operator informed while acquiring: a problem (warned, rate-limited) or a standby.
  const noteAttempt = (acquired: boolean) => {
    const problem = lastError === undefined ? undefined : diagnoseLeaseError(lastError, namespace);
    if (problem) return problems.failed(problem);
    if (lastError !== undefined) return; // a 409: another replica wrote first; the next attempt re-reads
    problems.cleared();
    const holder = acquired ? '' : observedHolder();
    if (holder !== '' && holder !== standbyBehind) {
      log?.info(
        { lease: `${namespace}/${name}`, holder },
        'lease held by another replica; waiting as standby',
      );
    }
    standbyBehind = holder;
  };

  const acquire = async (): Promise<boolean> => {
    while (!stopped) {
      const acquired = await tryAcquireOrRenew(options.renewDeadlineMs);
      noteAttempt(acquired);
      if (acquired) {
        if (!stopped) return true;
        await release(); // stop() arrived while the acquiring write was in flight
        return false;
      }
      await sleep(options.retryPeriodMs * (1 + random() * JITTER_FACTOR));
    }
    return false;
  };

  // renew keeps the Lease until one renewDeadline passes without a successful renewal, or stop().
  const renew = async () => {
    while (!stopped) {
      const deadline = clock.now() + options.renewDeadlineMs;
      let renewed = false;
      while (!stopped && !renewed && clock.now() < deadline) {
        renewed = await tryAcquireOrRenew(deadline - clock.now());
        if (!renewed) await sleep(Math.min(options.retryPeriodMs, Math.max(0, deadline - clock.now())));
      }
      if (stopped) return;
      if (!renewed) {
        log?.warn({ lease: name, identity }, 'failed to renew lease within the renew deadline');
        return;
      }
      await sleep(options.retryPeriodMs);
    }
  };

  const release = async () => {
    if (options.releaseOnCancel === false || !observed || observedHolder() !== identity) return;
    const now = clock.now();
    const record = {
      ...keep(observed.record),
      holderIdentity: '',
      leaseDurationSeconds: 1,
      renewTime: now,
      acquireTime: now,
    };
    try {
      observe(
        await deadline(
          leases.replace(namespace, name, observed.resourceVersion, record),
          options.renewDeadlineMs,
        ),
        now,
      );
      log?.info({ lease: name, identity }, 'released lease');
    } catch (err) {
      log?.warn({ err, lease: name }, 'cannot release lease');
    }
  };

  const setLeading = async (value: boolean, reason: StopReason = 'stopped') => {
    leading = value;
    options.metrics?.setLeader(name, value);
    log?.info(
      { lease: name, identity, ...(value ? {} : { reason }) },
      value ? 'became leader' : 'stopped leading',
    );
    try {
      await (value ? options.onStartedLeading() : options.onStoppedLeading(reason));
    } catch (err) {
      log?.error({ err, lease: name }, 'leader election callback failed');
    }
  };

  const campaign = async () => {
    log?.info({ lease: `${namespace}/${name}`, identity }, 'attempting to acquire leader lease');
    if (!(await acquire())) return;
    void setLeading(true);
    await renew();
    if (stopped) await release();
    await setLeading(false, stopped ? 'stopped' : 'lost');
  };

  return {
    run() {
      running ??= campaign();
      return running;
    },
    async stop() {
      stopped = true;
      sleeper.cancel();
      await running;
    },
    isLeader: () => leading,
    problem: () => problems.current(),
  };
}

function keep(record: LeaseRecord): Pick<LeaseRecord, 'acquireTime' | 'leaseTransitions'> {
  return { acquireTime: record.acquireTime, leaseTransitions: record.leaseTransitions };
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
