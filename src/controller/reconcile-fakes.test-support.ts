// Fakes for the two reconcile loops, on top of the port fakes in fakes.test-support.ts: a connection
// resolver over one FakeRancher and the wiring of a whole ApiKey or connection pass. Excluded from the build.
import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger } from '../observability/logger.ts';
import type { DriftTracker } from './apikey/drift.ts';
import { createKeyInventory } from './apikey/key-inventory.ts';
import type { ReconcileDeps } from './apikey/reconcile.ts';
import type { ConnectionReconcileDeps } from './connection/reconcile.ts';
import { connectionRefOf } from './connection/ref.ts';
import type { ConnectionResolver, Resolved } from './connection/types.ts';
import {
  FakeEvents,
  FakeRancher,
  FakeResources,
  FakeSecrets,
  Journal,
  MapCache,
  URL,
} from './fakes.test-support.ts';
import type { ObjectKey } from './object-key.ts';

/** FakeResolver resolves every connection to `resolved`, by default a working admin over `rancher`. */
export class FakeResolver implements ConnectionResolver {
  resolved: Resolved;
  readonly resolves: { ref: unknown; opts: unknown }[] = [];
  constructor(rancher: FakeRancher) {
    this.resolved = {
      view: { ok: true, url: URL, canSupplyValues: true, accountId: '1a1' },
      client: rancher,
      identity: rancher.identityValue,
      url: URL,
    };
  }
  async resolve(ref: unknown, opts: unknown): Promise<Resolved> {
    this.resolves.push({ ref, opts });
    return this.resolved;
  }
  refFor = connectionRefOf;
  invalidate(): void {}
}

/** FakeDrift is a DriftTracker with a fixed interval and no jitter, so requeues are exact. */
export class FakeDrift implements DriftTracker {
  readonly next = new Map<string, number>();
  readonly intervalMs: number;
  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }
  due = (uid: string, now: number) => (this.next.get(uid) ?? 0) <= now;
  checked = (uid: string, now: number) => {
    this.next.set(uid, now + this.intervalMs);
    return this.intervalMs;
  };
  forget = (uid: string) => void this.next.delete(uid);
  untilDue = (uid: string, now: number) => Math.max(0, (this.next.get(uid) ?? now) - now);
}

/** ApiKeyWorld is one ApiKey pass's injected world: caches, port fakes sharing one journal, a clock. */
export function apiKeyWorld(nowIso = '2026-11-26T00:00:00Z') {
  const journal = new Journal();
  const rancher = new FakeRancher(journal);
  const secrets = new FakeSecrets(journal);
  const resources = new FakeResources(journal);
  const events = new FakeEvents(journal);
  const apiKeys = new MapCache();
  const resolver = new FakeResolver(rancher);
  const drift = new FakeDrift(600_000);
  const clock = { now: Date.parse(nowIso) };
  const requeued: ObjectKey[] = [];
  const inventory = createKeyInventory({
    intervalMs: drift.intervalMs,
    drift,
    apiKeys,
    requeue: (k) => void requeued.push(k),
    now: () => clock.now,
  });
  const deps: ReconcileDeps = {
    apiKeys,
    // The Secret cache is the store itself: no lag, so a pass sees what the last one wrote.
    secretCache: { get: (name, ns) => secrets.get(ns ?? '', name) },
    secrets,
    connections: resolver,
    drift,
    inventory,
    now: () => clock.now,
    resources,
    events,
    crash: () => undefined,
    logger: createLogger({ level: 'error' }),
    lastWritten: new Map(),
    ownWrites: new Map(),
  };
  return {
    journal,
    rancher,
    secrets,
    resources,
    events,
    apiKeys,
    resolver,
    drift,
    inventory,
    requeued,
    clock,
    deps,
  };
}

/** connectionWorld is one connection pass's injected world, its ApiKeys listed from `apiKeys`. */
export function connectionWorld(apiKeys: KubernetesObject[] = []) {
  const journal = new Journal();
  const rancher = new FakeRancher(journal);
  const resources = new FakeResources(journal);
  const events = new FakeEvents(journal);
  const connections = new MapCache();
  const clusterConnections = new MapCache();
  const resolver = new FakeResolver(rancher);
  const deps: ConnectionReconcileDeps = {
    connections,
    clusterConnections: { get: (name) => clusterConnections.get(name, '') },
    resolver,
    resources,
    events,
    now: () => Date.parse('2030-01-01T00:00:00Z'),
    recheckMs: 600_000,
    apiKeys: { list: () => apiKeys },
    watchNamespaces: [],
  };
  return { journal, rancher, resources, events, connections, clusterConnections, resolver, deps };
}
