import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/config.ts';
import { createDriftTracker } from '../controller/apikey/drift.ts';
import type { CrashPoint } from '../controller/apikey/execute/context.ts';
import { createKeyInventory } from '../controller/apikey/key-inventory.ts';
import type { OwnWrites } from '../controller/apikey/own-writes.ts';
import { reconcileApiKey } from '../controller/apikey/reconcile.ts';
import { createRetirementLists, deletingUidsOf } from '../controller/apikey/retirement-list.ts';
import { createUnreadSecrets } from '../controller/apikey/unread-secrets.ts';
import { reconcileConnection } from '../controller/connection/reconcile.ts';
import { connectionRefOfObject } from '../controller/connection/ref.ts';
import { createConnectionResolver } from '../controller/connection/resolver.ts';
import type { ConnectionId } from '../controller/connection/types.ts';
import type { ObjectKey } from '../controller/object-key.ts';
import { createKubeApis } from '../kube/client.ts';
import { createConfigMapStore } from '../kube/configmaps.ts';
import { createEventRecorder } from '../kube/events.ts';
import { createLeaderElector, leaderIdentity, leaseApiFrom } from '../kube/leader-election.ts';
import { createResourceWriter } from '../kube/resources.ts';
import { createSecretStore } from '../kube/secrets.ts';
import { createWorkloadStore } from '../kube/workloads.ts';
import { registerApiKeyStatusMetrics } from '../observability/apikey-status-metrics.ts';
import { createKeyMetrics } from '../observability/key-metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createRancherClient, type RancherClient } from '../rancher/index.ts';
import { createControllerLoop } from './controller-loop.ts';
import { createHandlers } from './handlers.ts';
import { createInformers } from './informers.ts';
import { createNamespaceLabels } from './namespaces.ts';
import { allApiKeyUids, createSharding, servesConnection } from './sharding.ts';

export type { CrashPoint };

/** OperatorOptions are the operator's inputs; main.ts builds them from flags and the environment. */
export interface OperatorOptions {
  config: Config;
  kubeConfig: KubeConfig;
  logger: Logger;
  metrics: Metrics;
  crash(point: CrashPoint): void;
  /** Called when leadership is lost: the process must stop reconciling at once (client-go semantics). */
  onLostLeadership(): void;
}

/** RunningOperator is a started operator. */
export interface RunningOperator {
  isReady(): boolean;
  /** notReadyReason says why isReady() is false: caches not synced, or a Lease that cannot be acquired. */
  notReadyReason(): string;
  stop(): Promise<void>;
}

/** startOperator wires caches, queue, reconcilers and leader election, and starts them. */
export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const { config, logger, metrics } = o;
  const apis = await createKubeApis(o.kubeConfig, {
    timeoutMs: 30_000,
    onResponse: (code, method) => metrics.restClientRequest(code, method),
  });
  const loopDefaults = {
    qps: config.maxReconcileRate,
    burst: config.maxReconcileBurst,
    tenant: { maxSlowPasses: config.tenantMaxSlowPasses, slowAfterMs: config.tenantSlowAfterMs },
    metrics,
    logger,
  };
  // One queue per kind: a burst of ApiKeys never delays a connection check, and each has its own metrics.
  const apiKeyLoop = createControllerLoop<ObjectKey>({
    ...loopDefaults,
    name: 'apikey',
    concurrency: config.concurrency,
    keyOf: (k) => `${k.namespace}/${k.name}`,
    // A pass spends its namespace's budget and, on a ClusterRancherConnection, the one namespaces share there.
    budgetOf: (k) => {
      const cached = informers?.apiKeys.get(k.name, k.namespace);
      // Not cached (deleted, or another shard's): its pass asks Rancher nothing, so it never waits behind a slow one.
      if (!cached) return [];
      const ref = connectionRefOfObject(cached);
      return ref?.kind === 'ClusterRancherConnection'
        ? [k.namespace, `ClusterRancherConnection/${ref.name}`]
        : [k.namespace];
    },
    reconcile: (k) => reconcileApiKey(k, deps),
  });
  // Connections are few and their passes short; a quarter of the ApiKey workers (at least 2) is plenty.
  const connectionLoop = createControllerLoop<ConnectionId>({
    ...loopDefaults,
    name: 'connection',
    concurrency: Math.max(2, Math.ceil(config.concurrency / 4)),
    keyOf: (c) => `${c.kind}/${c.namespace}/${c.name}`,
    budgetOf: (c) => (c.kind === 'RancherConnection' ? [c.namespace] : []),
    reconcile: (c) => reconcileConnection(c, connDeps),
  });
  const addConnection = (c: ConnectionId) => {
    if (servesConnection(config.reconcileConnections, c)) connectionLoop.add(c);
  };
  let informers: ReturnType<typeof createInformers> | undefined;
  // What each ApiKey's last pass wrote (see own-writes.ts): a wake-up for any other reason than the ApiKey's own
  // objects changing forgets it, so that pass runs.
  const ownWrites: OwnWrites = new Map();
  const wakeApiKey = (k: ObjectKey) => {
    ownWrites.delete(`${k.namespace}/${k.name}`);
    apiKeyLoop.add(k);
  };
  const handlers = createHandlers(
    {
      apiKey: (k) => apiKeyLoop.add(k),
      apiKeyDependency: wakeApiKey,
      connection: addConnection,
    },
    () => informers?.apiKeys.list() ?? [],
  );
  informers = createInformers(
    o.kubeConfig,
    apis,
    {
      namespaces: config.namespaces,
      labelSelector: config.labelSelector,
      clusterConnections: config.clusterConnections,
    },
    handlers,
    { logger, metrics },
  );
  const caches = informers;
  const identity = leaderIdentity(config.podName);
  const secrets = createSecretStore(apis);
  const resources = createResourceWriter(apis);
  const clients: RancherClient[] = [];
  const resolver = createConnectionResolver({
    connections: caches.connections,
    clusterConnections: caches.clusterConnections,
    secrets,
    configMaps: createConfigMapStore(apis),
    namespaceLabels: createNamespaceLabels(apis),
    makeClient: (opts) => {
      const client = createRancherClient({
        ...opts,
        timeouts: { deadlineMs: config.rancherTimeoutMs },
        onCall: (c) => metrics.rancherRequest(c.action, c.status, c.durationMs / 1000),
      });
      clients.push(client);
      return client;
    },
    operatorNamespace: config.operatorNamespace,
    now: Date.now,
    credentialsOptIn: config.credentialsOptIn,
    allowedUrls: config.allowedRancherUrls,
    clusterConnectionsEnabled: config.clusterConnections,
    // Rancher refused credentials that were verified: the connection re-checks now, not at its recheck.
    onInvalidated: addConnection,
  });
  const keyMetrics = createKeyMetrics(metrics.registry);
  // Per-ApiKey condition series and counts per key state, read from the cache at each scrape.
  registerApiKeyStatusMetrics(metrics.registry, () => caches.apiKeys.list());
  const drift = createDriftTracker(config.driftCheckIntervalMs);
  const sharding = createSharding({
    config,
    apis,
    identity,
    logger,
    metrics,
    apiKeys: caches.apiKeys,
    // An ApiKey that left this shard may come back changed by another: what this process knew of it is stale.
    forget: (k, uid) => {
      ownWrites.delete(`${k.namespace}/${k.name}`);
      deps.lastWritten.delete(`${k.namespace}/${k.name}`);
      keyMetrics.forgetKey(k.namespace, k.name);
      if (uid === undefined) return;
      drift.forget(uid);
      deps.inventory.forget(uid);
    },
  });
  const deps = {
    keyMetrics,
    apiKeys: caches.apiKeys,
    secretCache: caches.secrets,
    secrets,
    connections: resolver,
    drift,
    // One key list per connection scope and drift interval checks every ApiKey at rest (not a GET per key).
    inventory: createKeyInventory({
      intervalMs: config.driftCheckIntervalMs,
      drift,
      apiKeys: caches.apiKeys,
      requeue: wakeApiKey,
      now: Date.now,
    }),
    // Deletions read which keys carry their marker from one list per scope, not a filtered list each.
    retirements: createRetirementLists({
      deletingUids: () => deletingUidsOf(caches.apiKeys.list()),
      retryMs: config.driftCheckIntervalMs,
      now: Date.now,
    }),
    now: Date.now,
    resources,
    // Consumer restarts need apps RBAC that only the consumer-restarts install grants: no store without it.
    workloads: config.consumerRestarts ? createWorkloadStore(apis) : undefined,
    events: createEventRecorder(apis, {
      instance: identity,
      fallbackNamespace: config.operatorNamespace,
      onError: (err) => logger.warn({ err }, 'cannot record Event'),
    }),
    crash: o.crash,
    logger,
    lastWritten: new Map<string, string>(),
    ownWrites,
    unreadSecrets: createUnreadSecrets(),
    onSkipped: (reason: 'echo' | 'released') => metrics.passSkipped(reason),
    shardGate: sharding?.gate,
  };
  const connDeps = {
    connections: caches.connections,
    clusterConnections: caches.clusterConnections,
    resolver,
    resources,
    now: Date.now,
    recheckMs: config.driftCheckIntervalMs,
    apiKeys: caches.apiKeys,
    watchNamespaces: config.namespaces,
    allApiKeyUids: allApiKeyUids(config, apis),
    events: deps.events,
    keyMetrics,
  };
  await caches.start();
  let started = false;
  const startWorkers = async () => {
    if (started) return;
    started = true;
    while (!caches.hasSynced()) await new Promise((r) => setTimeout(r, 50));
    logger.info({ identity }, 'caches synced; reconciling');
    sharding?.releaseStale(apiKeyLoop.add, (k) => caches.apiKeys.get(k.name, k.namespace) !== undefined);
    apiKeyLoop.start();
    connectionLoop.start();
  };
  const elector = config.leaderElect
    ? createLeaderElector({
        leases: leaseApiFrom(apis.coordination, sharding?.leaseAnnotations),
        namespace: config.leaderElectionNamespace,
        name: config.leaderElectionId,
        identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        logger,
        metrics,
        onStartedLeading: startWorkers,
        onStoppedLeading: (reason) => {
          if (reason === 'lost') o.onLostLeadership();
        },
      })
    : undefined;
  if (!elector) {
    logger.info(
      'leader election is off: run a single replica (turn it on with --leader-elect or LEADER_ELECT=true)',
    );
  }
  const electing = elector ? elector.run() : startWorkers();
  void electing;
  const leaseName = `${config.leaderElectionNamespace}/${config.leaderElectionId}`;
  const notReadyReason = () => {
    const problem = elector?.problem();
    if (problem) return `cannot acquire leader lease ${leaseName}: ${problem.reason}; ${problem.remedy}`;
    return caches.hasSynced() ? '' : 'informer caches not synced yet';
  };
  return {
    isReady: () => notReadyReason() === '',
    notReadyReason,
    async stop() {
      await Promise.all([apiKeyLoop.stop(), connectionLoop.stop()]);
      await elector?.stop();
      await caches.stop();
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await apis.close();
    },
  };
}
