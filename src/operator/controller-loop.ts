import type { ReconcileResult } from '../controller/result.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { realClock } from '../runtime/clock.ts';
import { createTenantBudget, defaultTenantCap } from '../runtime/tenant-budget.ts';
import { createWorkQueue } from '../runtime/workqueue.ts';

/** ControllerLoopOptions configure one kind's queue, tenant budget and reconcile function. */
export interface ControllerLoopOptions<K> {
  /** name labels the queue's and the controller's metrics (controller-runtime's controller name). */
  name: string;
  concurrency: number;
  qps: number;
  burst: number;
  /** keyOf is the queue id of a key: equal ids are the same item (deduplicated, one worker at a time). */
  keyOf(key: K): string;
  /**
   * budgetOf names the budget groups a key's passes spend (runtime/tenant-budget.ts): its namespace (every
   * connection of one tenant) and a connection that namespaces share; none for cluster-scoped objects.
   */
  budgetOf(key: K): readonly string[];
  reconcile(key: K): Promise<ReconcileResult>;
  tenant: { maxSlowPasses: number | undefined; slowAfterMs: number };
  metrics: Metrics;
  logger: Logger;
}

/** ControllerLoop is one kind's running controller: its own queue, workers and metrics. */
export interface ControllerLoop<K> {
  add(key: K): void;
  start(): void;
  /** stop drains the queue and waits for passes that released their worker. */
  stop(): Promise<void>;
}

/**
 * createControllerLoop runs `reconcile` for each queued key within its budget groups and requeues it as
 * the result says: backoff on retry, after a delay, or not until an informer event.
 */
export function createControllerLoop<K>(o: ControllerLoopOptions<K>): ControllerLoop<K> {
  const { logger, metrics } = o;
  const queue = createWorkQueue<K>({
    name: o.name,
    keyOf: o.keyOf,
    concurrency: o.concurrency,
    // Failures are mostly Rancher being down or slow: start backing off at 250 ms, not client-go's 5 ms,
    // so an outage costs a few requests per key instead of a burst (cap 5 minutes).
    baseDelayMs: 250,
    maxDelayMs: 300_000,
    qps: o.qps,
    burst: o.burst,
    metrics: metrics.workqueue(o.name),
    onError: (key, err) => logger.error({ key: o.keyOf(key), err }, 'worker failed'),
  });
  const controller = metrics.controller(o.name);
  controller.setMaxConcurrentReconciles(o.concurrency);
  // One slow or hostile Rancher must not hold every worker: a slow namespace (or shared connection) gets `cap`.
  const budget = createTenantBudget({
    cap: o.tenant.maxSlowPasses ?? defaultTenantCap(o.concurrency),
    slowAfterMs: o.tenant.slowAfterMs,
    maxReleased: o.concurrency,
    clock: realClock,
    onDeferred: (ns) => metrics.tenantBudget(ns, 'deferred'),
    onReleased: (ns) => metrics.tenantBudget(ns, 'released'),
    onReleasedError: (key, err) => logger.error({ key, err }, 'worker failed'),
  });

  async function work(key: K): Promise<void> {
    const started = performance.now();
    controller.workerStarted();
    let result: ReconcileResult;
    try {
      result = await o.reconcile(key);
    } finally {
      controller.workerFinished();
    }
    const seconds = (performance.now() - started) / 1000;
    if (result.kind === 'retry') {
      controller.reconciled('error', seconds);
      logger.warn({ key: o.keyOf(key), err: result.error }, 'reconcile failed; retrying with backoff');
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

  return {
    add: (key) => queue.add(key),
    start() {
      queue.run((key) =>
        budget.run(
          o.keyOf(key),
          o.budgetOf(key),
          () => work(key),
          (ms) => queue.addAfter(key, ms),
        ),
      );
    },
    async stop() {
      await queue.shutdown({ drain: true });
      await budget.idle();
    },
  };
}
