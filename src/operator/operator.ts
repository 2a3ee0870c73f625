import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/config.ts';
import { createDriftTracker } from '../controller/apikey/drift.ts';
import type { CrashPoint } from '../controller/apikey/execute/context.ts';
import { connectionQueueKey, reconcileConnection } from '../controller/connection/reconcile.ts';
import { createConnectionResolver } from '../controller/connection/resolver.ts';

export type { CrashPoint };

import { reconcileApiKey } from '../controller/apikey/reconcile.ts';
import type { ReconcileResult } from '../controller/result.ts';
import { createKubeApis } from '../kube/client.ts';
import { createEventRecorder } from '../kube/events.ts';
import { createLeaderElector, leaderIdentity, leaseApiFrom } from '../kube/leader-election.ts';
import { createResourceWriter } from '../kube/resources.ts';
import { createSecretStore } from '../kube/secrets.ts';
import { createKeyMetrics } from '../observability/key-metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createRancherClient, type RancherClient } from '../rancher/index.ts';
import { realClock } from '../runtime/clock.ts';
import { createTenantBudget, defaultTenantCap } from '../runtime/tenant-budget.ts';
import { createWorkQueue } from '../runtime/workqueue.ts';
import { createHandlers } from './handlers.ts';
import { createInformers } from './informers.ts';
import { createNamespaceLabels } from './namespaces.ts';

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
  stop(): Promise<void>;
}

/** startOperator wires caches, queue, reconcilers and leader election, and starts them. */
export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const { config, logger, metrics } = o;
  const apis = await createKubeApis(o.kubeConfig, {
    timeoutMs: 30_000,
    onResponse: (code, method) => metrics.restClientRequest(code, method),
  });
  const queue = createWorkQueue({
    name: 'apikey',
    concurrency: config.concurrency,
    // Failures are mostly Rancher being down or slow: start backing off at 250 ms, not client-go's 5 ms,
    // so an outage costs a few requests per key instead of a burst (cap 5 minutes).
    baseDelayMs: 250,
    maxDelayMs: 300_000,
    qps: config.maxReconcileRate,
    burst: config.maxReconcileBurst,
    metrics: metrics.workqueue('apikey'),
    onError: (key, err) => logger.error({ key, err }, 'worker failed'),
  });
  let informers: ReturnType<typeof createInformers> | undefined;
  const handlers = createHandlers(
    (k) => queue.add(k),
    () => informers?.apiKeys.list() ?? [],
  );
  informers = createInformers(
    o.kubeConfig,
    apis,
    { namespaces: config.namespaces, labelSelector: config.labelSelector },
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
    // Rancher refused credentials that were verified: the connection re-checks now, not at its recheck.
    onInvalidated: (c) => queue.add(connectionQueueKey(c.kind, c.namespace, c.name)),
  });
  const keyMetrics = createKeyMetrics(metrics.registry);
  const deps = {
    keyMetrics,
    apiKeys: caches.apiKeys,
    secretCache: caches.secrets,
    secrets,
    connections: resolver,
    drift: createDriftTracker(config.driftCheckIntervalMs),
    now: Date.now,
    resources,
    events: createEventRecorder(apis, {
      instance: identity,
      fallbackNamespace: config.operatorNamespace,
      onError: (err) => logger.warn({ err }, 'cannot record Event'),
    }),
    crash: o.crash,
    logger,
    lastWritten: new Map<string, string>(),
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
    events: deps.events,
    keyMetrics,
  };
  const controller = metrics.controller('apikey');
  controller.setMaxConcurrentReconciles(config.concurrency);

  // One slow or hostile Rancher must not hold every worker: a slow namespace gets `cap` of them.
  const budget = createTenantBudget({
    cap: config.tenantMaxSlowPasses ?? defaultTenantCap(config.concurrency),
    slowAfterMs: config.tenantSlowAfterMs,
    maxReleased: config.concurrency,
    clock: realClock,
    onDeferred: (ns) => metrics.tenantBudget(ns, 'deferred'),
    onReleased: (ns) => metrics.tenantBudget(ns, 'released'),
    onReleasedError: (key, err) => logger.error({ key, err }, 'worker failed'),
  });

  async function work(key: string): Promise<void> {
    const started = performance.now();
    controller.workerStarted();
    let result: ReconcileResult;
    try {
      result = key.includes(':')
        ? await reconcileConnection(key, connDeps)
        : await reconcileApiKey(key, deps);
    } finally {
      controller.workerFinished();
    }
    const seconds = (performance.now() - started) / 1000;
    if (result.kind === 'retry') {
      controller.reconciled('error', seconds);
      logger.warn({ key, err: result.error }, 'reconcile failed; retrying with backoff');
      queue.addRateLimited(key);
      return;
    }
    queue.forget(key);
    if (result.requeueAfterMs !== undefined) {
      controller.reconciled('requeue_after', seconds);
      queue.addAfter(key, result.requeueAfterMs);
    } else {
      controller.reconciled('success', seconds);
    }
  }

  await caches.start();
  let started = false;
  const startWorkers = async () => {
    if (started) return;
    started = true;
    while (!caches.hasSynced()) await new Promise((r) => setTimeout(r, 50));
    logger.info({ identity }, 'caches synced; reconciling');
    queue.run((key) =>
      budget.run(
        key,
        () => work(key),
        (ms) => queue.addAfter(key, ms),
      ),
    );
  };
  const elector = config.leaderElect
    ? createLeaderElector({
        leases: leaseApiFrom(apis.coordination),
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
  const electing = elector ? elector.run() : startWorkers();
  void electing;
  return {
    isReady: () => caches.hasSynced(),
    async stop() {
      await queue.shutdown({ drain: true });
      await budget.idle();
      await elector?.stop();
      await caches.stop();
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await apis.close();
    },
  };
}
