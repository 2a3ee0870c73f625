import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { createFakeClock, type FakeClock } from '../runtime/fake-clock.test-support.ts';
import { createLeaderElector, type Lease, type LeaseApi, type LeaseRecord } from './leader-election.ts';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

async function runFor(clock: FakeClock, ms: number, step = 100) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

class StatusError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number) {
    super(`status ${statusCode}`);
    this.statusCode = statusCode;
  }
}

/** fakeStore is an in-memory Lease with apiserver semantics: resourceVersion preconditions, 409s, 404s. */
function fakeStore(initial?: LeaseRecord) {
  let rv = 0;
  let lease: Lease | undefined = initial ? { resourceVersion: String(++rv), record: initial } : undefined;
  const state = {
    beforeReplace: undefined as (() => void) | undefined,
    /** failWith makes every call fail with this status (404: the namespace is missing; 403: no RBAC). */
    failWith: undefined as number | undefined,
  };
  const write = (record: LeaseRecord): Lease => {
    lease = { resourceVersion: String(++rv), record: { ...record } };
    return structuredClone(lease);
  };
  /** client is one elector's view of the store; `down` makes its calls fail as if the apiserver were unreachable. */
  const client = () => {
    const c = { down: false };
    const guard = () => {
      if (c.down) throw new StatusError(503);
      if (state.failWith !== undefined) throw new StatusError(state.failWith);
    };
    const api: LeaseApi = {
      read: async () => {
        guard();
        return lease ? structuredClone(lease) : undefined;
      },
      create: async (_ns, _name, record) => {
        guard();
        if (lease) throw new StatusError(409);
        return write(record);
      },
      replace: async (_ns, _name, resourceVersion, record) => {
        guard();
        const hook = state.beforeReplace;
        state.beforeReplace = undefined;
        hook?.();
        if (!lease) throw new StatusError(404);
        if (lease.resourceVersion !== resourceVersion) throw new StatusError(409);
        return write(record);
      },
    };
    return Object.assign(c, { api });
  };
  return { client, state, write, current: () => lease?.record };
}

type LogLine = { level: number; msg: string; reason?: string; remedy?: string; failedAttempts?: number };

function elector(
  store: ReturnType<typeof fakeStore>,
  clock: FakeClock,
  identity: string,
  events: string[],
  logs?: LogLine[],
) {
  const client = store.client();
  const logger = logs
    ? createLogger({ level: 'info', destination: { write: (s: string) => void logs.push(JSON.parse(s)) } })
    : undefined;
  const leader: boolean[] = [];
  const e = createLeaderElector({
    leases: client.api,
    namespace: 'ops',
    name: 'rancher-apikey-operator',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    random: () => 0,
    logger,
    metrics: { setLeader: (_n, v) => void leader.push(v) },
    onStartedLeading: () => void events.push(`${identity} started`),
    onStoppedLeading: (reason) => void events.push(`${identity} ${reason}`),
  });
  return Object.assign(e, { client, leader, done: e.run() });
}

describe('createLeaderElector', () => {
  it('creates a missing Lease and leads', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    await flush();
    expect(a.isLeader()).toBe(true);
    expect(events).toEqual(['a started']);
    expect(a.leader).toEqual([true]);
    expect(store.current()).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
  });

  it('keeps a standby waiting while the leader renews', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    await flush();
    const b = elector(store, clock, 'b', events);
    await runFor(clock, 60_000);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(events).toEqual(['a started']);
    expect(store.current()?.renewTime).toBeGreaterThan(1_000_000 + 55_000);
    expect(store.current()?.acquireTime).toBe(1_000_000);
  });

  it('takes over an expired Lease only after leaseDuration of local observation, counting a transition', async () => {
    const clock = createFakeClock(1_000_000);
    // The previous holder's renewTime is ancient (clock skew): only the local observation time counts.
    const store = fakeStore({
      holderIdentity: 'gone',
      leaseDurationSeconds: 15,
      acquireTime: 0,
      renewTime: 0,
      leaseTransitions: 3,
    });
    const events: string[] = [];
    const b = elector(store, clock, 'b', events);
    await runFor(clock, 14_000);
    expect(b.isLeader()).toBe(false);
    await runFor(clock, 4_000);
    expect(b.isLeader()).toBe(true);
    expect(store.current()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
  });

  it('fails over when the leader can no longer reach the apiserver', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    await flush();
    const b = elector(store, clock, 'b', events);
    await runFor(clock, 4_000);
    a.client.down = true;
    await runFor(clock, 12_000);
    expect(a.isLeader()).toBe(false);
    expect(events).toEqual(['a started', 'a lost']);
    await a.done;
    await runFor(clock, 20_000);
    expect(b.isLeader()).toBe(true);
    expect(store.current()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('loses an optimistic-concurrency race without leading', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: 0,
      renewTime: 0,
      leaseTransitions: 0,
    });
    // Another candidate writes between our read and our replace.
    store.state.beforeReplace = () =>
      store.write({
        holderIdentity: 'rival',
        leaseDurationSeconds: 15,
        acquireTime: 1,
        renewTime: 1,
        leaseTransitions: 1,
      });
    const events: string[] = [];
    const b = elector(store, clock, 'b', events);
    await runFor(clock, 10_000);
    expect(b.isLeader()).toBe(false);
    expect(store.current()?.holderIdentity).toBe('rival');
  });

  it('releases the Lease on stop so a standby takes over well before expiry', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    await flush();
    const b = elector(store, clock, 'b', events);
    await runFor(clock, 3_000);
    await a.stop();
    expect(store.current()).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(events).toEqual(['a started', 'a stopped']);
    expect(a.leader).toEqual([true, false]);
    await runFor(clock, 2_500);
    expect(b.isLeader()).toBe(true);
  });

  it('stop before leading resolves without callbacks or writes', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore({
      holderIdentity: 'x',
      leaseDurationSeconds: 15,
      acquireTime: 1,
      renewTime: 1,
      leaseTransitions: 0,
    });
    const events: string[] = [];
    const b = elector(store, clock, 'b', events);
    await runFor(clock, 1_000);
    await b.stop();
    await b.done;
    expect(events).toEqual([]);
    expect(store.current()?.holderIdentity).toBe('x');
  });
});

describe('a Lease that cannot be acquired', () => {
  const WARN = 40;
  const warnings = (logs: LogLine[]) => logs.filter((l) => l.level === WARN);

  it('warns at once with the reason and the remedy, then at most once a minute, until the Lease is reached', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    store.state.failWith = 404; // the Lease's namespace does not exist
    const events: string[] = [];
    const logs: LogLine[] = [];
    const a = elector(store, clock, 'a', events, logs);
    await flush();
    expect(warnings(logs)).toEqual([
      expect.objectContaining({
        msg: expect.stringContaining('cannot acquire leader lease ops/rancher-apikey-operator'),
        reason: 'namespace "ops" does not exist (404)',
        remedy: expect.stringContaining('kubectl create namespace ops'),
        failedAttempts: 1,
      }),
    ]);
    expect(a.problem()?.reason).toBe('namespace "ops" does not exist (404)');
    await runFor(clock, 100_000); // ~45 attempts at a 2 s retry period
    const warned = warnings(logs);
    expect(warned).toHaveLength(2);
    expect(warned[1]?.failedAttempts).toBeGreaterThan(20);
    expect(a.isLeader()).toBe(false);

    store.state.failWith = undefined; // the admin created the namespace
    await runFor(clock, 5_000);
    expect(a.isLeader()).toBe(true);
    expect(a.problem()).toBeUndefined();
    expect(logs.map((l) => l.msg)).toContain('leader lease reachable again');
    expect(events).toEqual(['a started']);
  });

  it('warns again at once when the reason changes, and names the Role a 403 needs', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    store.state.failWith = 404;
    const logs: LogLine[] = [];
    const a = elector(store, clock, 'a', [], logs);
    await runFor(clock, 5_000);
    store.state.failWith = 403;
    await runFor(clock, 5_000);
    expect(warnings(logs).map((l) => l.reason)).toEqual([
      'namespace "ops" does not exist (404)',
      expect.stringMatching(/^forbidden \(403\).*leases in namespace "ops"$/),
    ]);
    expect(a.problem()?.remedy).toContain('deploy/base/leader-election-role.yaml');
  });

  it('reports no problem for a standby behind a held Lease, and says once that it waits', async () => {
    const clock = createFakeClock(1_000_000);
    const store = fakeStore();
    const a = elector(store, clock, 'a', []);
    await flush();
    const logs: LogLine[] = [];
    const b = elector(store, clock, 'b', [], logs);
    await runFor(clock, 30_000);
    expect(a.isLeader()).toBe(true);
    expect(b.problem()).toBeUndefined();
    expect(warnings(logs)).toEqual([]);
    expect(logs.filter((l) => l.msg === 'lease held by another replica; waiting as standby')).toHaveLength(1);
  });
});
