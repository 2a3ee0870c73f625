import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** ReconcileResult is the `result` label of controller_runtime_reconcile_total, as in controller-runtime. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/** ControllerMetrics records one controller's reconciles and workers (controller-runtime names). */
export type ControllerMetrics = {
  reconciled(result: ReconcileResult, seconds: number): void;
  setMaxConcurrentReconciles(n: number): void;
  workerStarted(): void;
  workerFinished(): void;
};

/** InFlightProbe reports the age of work in progress, sampled when /metrics is scraped. */
export type InFlightProbe = () => { unfinishedSeconds: number; longestRunningSeconds: number };

/** WorkQueueMetrics is what a work queue reports (client-go workqueue names). */
export type WorkQueueMetrics = {
  added(): void;
  setDepth(depth: number): void;
  retried(): void;
  observeQueueDuration(seconds: number): void;
  observeWorkDuration(seconds: number): void;
  setInFlightProbe(probe: InFlightProbe): void;
};

/** Metrics owns a dedicated prom-client Registry with default process metrics and the operator's series. */
export type Metrics = {
  registry: Registry;
  controller(name: string): ControllerMetrics;
  workqueue(name: string): WorkQueueMetrics;
  setLeader(name: string, leading: boolean): void;
  restClientRequest(code: number | string, method: string): void;
  rancherRequest(action: string, status: number | string, seconds: number): void;
  informerRestarted(resource: string): void;
  /** tenantBudget counts passes of a slow namespace that were deferred or gave their worker back. */
  tenantBudget(namespace: string, outcome: 'deferred' | 'released'): void;
  /** passSkipped counts ApiKey passes that had nothing to do: woken by the echo of their own writes. */
  passSkipped(reason: 'echo' | 'released'): void;
};

const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// client-go workqueue: prometheus.ExponentialBuckets(10e-9, 10, 12).
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
const RANCHER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

/**
 * createMetrics returns a fresh Metrics on its own Registry (never the global one), so that two instances
 * (for example in tests) never collide.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const probes = new Map<string, InFlightProbe>();

  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const maxConcurrent = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers,
  });
  const queue = createWorkQueueSeries(registers, probes);
  const leader = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 master',
    labelNames: ['name'] as const,
    registers,
  });
  const restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests to the apiserver, partitioned by status code and method',
    labelNames: ['code', 'method'] as const,
    registers,
  });
  const rancherRequests = new Counter({
    name: 'rancher_apikey_operator_rancher_requests_total',
    help: 'Number of Rancher API requests, partitioned by action and HTTP status (or error code)',
    labelNames: ['action', 'status'] as const,
    registers,
  });
  const rancherDuration = new Histogram({
    name: 'rancher_apikey_operator_rancher_request_duration_seconds',
    help: 'Latency of Rancher API requests, partitioned by action',
    labelNames: ['action'] as const,
    buckets: RANCHER_BUCKETS,
    registers,
  });
  const informerRestarts = new Counter({
    name: 'rancher_apikey_operator_informer_restarts_total',
    help: 'Number of informer restarts after an error or a stalled watch, partitioned by resource',
    labelNames: ['resource'] as const,
    registers,
  });
  const tenantBudget = new Counter({
    name: 'rancher_apikey_operator_tenant_budget_passes_total',
    help: 'Reconciles of a slow namespace deferred without a worker or moved off their worker, partitioned by namespace',
    labelNames: ['namespace', 'outcome'] as const,
    registers,
  });

  const passesSkipped = new Counter({
    name: 'rancher_apikey_operator_apikey_passes_skipped_total',
    help: 'ApiKey reconciles that returned at once: the caches showed only what the last pass wrote (echo) or an ApiKey this process already released (released)',
    labelNames: ['reason'] as const,
    registers,
  });

  return {
    registry,
    controller: (controller) => ({
      reconciled(result, seconds) {
        reconcileTotal.inc({ controller, result });
        if (result === 'error') reconcileErrors.inc({ controller });
        reconcileTime.observe({ controller }, seconds);
      },
      setMaxConcurrentReconciles: (n) => maxConcurrent.set({ controller }, n),
      workerStarted: () => activeWorkers.inc({ controller }),
      workerFinished: () => activeWorkers.dec({ controller }),
    }),
    workqueue: (name) => ({
      added: () => queue.adds.inc({ name }),
      setDepth: (depth) => queue.depth.set({ name }, depth),
      retried: () => queue.retries.inc({ name }),
      observeQueueDuration: (s) => queue.queueDuration.observe({ name }, s),
      observeWorkDuration: (s) => queue.workDuration.observe({ name }, s),
      setInFlightProbe: (probe) => void probes.set(name, probe),
    }),
    setLeader: (name, leading) => leader.set({ name }, leading ? 1 : 0),
    restClientRequest: (code, method) =>
      restRequests.inc({ code: String(code), method: method.toUpperCase() }),
    rancherRequest(action, status, seconds) {
      rancherRequests.inc({ action, status: String(status) });
      rancherDuration.observe({ action }, seconds);
    },
    informerRestarted: (resource) => informerRestarts.inc({ resource }),
    tenantBudget: (namespace, outcome) => tenantBudget.inc({ namespace, outcome }),
    passSkipped: (reason) => passesSkipped.inc({ reason }),
  };
}

function createWorkQueueSeries(registers: Registry[], probes: Map<string, InFlightProbe>) {
  const labelNames = ['name'] as const;
  const sample = (pick: (p: ReturnType<InFlightProbe>) => number) =>
    function collect(this: Gauge<'name'>) {
      for (const [name, probe] of probes) this.set({ name }, pick(probe()));
    };
  return {
    depth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers }),
    adds: new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames,
      registers,
    }),
    retries: new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames,
      registers,
    }),
    queueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames,
      buckets: WORKQUEUE_BUCKETS,
      registers,
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames,
      buckets: WORKQUEUE_BUCKETS,
      registers,
    }),
    unfinished: new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and has not been observed by work_duration',
      labelNames,
      registers,
      collect: sample((p) => p.unfinishedSeconds),
    }),
    longest: new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running',
      labelNames,
      registers,
      collect: sample((p) => p.longestRunningSeconds),
    }),
  };
}
