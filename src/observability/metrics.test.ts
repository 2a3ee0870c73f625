import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

const EXPECTED_NAMES = [
  'controller_runtime_reconcile_total',
  'controller_runtime_reconcile_errors_total',
  'controller_runtime_reconcile_time_seconds',
  'controller_runtime_max_concurrent_reconciles',
  'controller_runtime_active_workers',
  'workqueue_depth',
  'workqueue_adds_total',
  'workqueue_retries_total',
  'workqueue_queue_duration_seconds',
  'workqueue_work_duration_seconds',
  'workqueue_unfinished_work_seconds',
  'workqueue_longest_running_processor_seconds',
  'leader_election_master_status',
  'rest_client_requests_total',
  'rancher_apikey_operator_rancher_requests_total',
  'rancher_apikey_operator_rancher_request_duration_seconds',
  'rancher_apikey_operator_informer_restarts_total',
  'rancher_apikey_operator_tenant_budget_passes_total',
];

describe('createMetrics', () => {
  it('registers every controller-runtime, workqueue and operator series plus process metrics', async () => {
    const text = await createMetrics().registry.metrics();
    for (const name of EXPECTED_NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('gives each instance its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.informerRestarted('apikeys');
    expect(
      await a.registry.getSingleMetricAsString('rancher_apikey_operator_informer_restarts_total'),
    ).toContain('rancher_apikey_operator_informer_restarts_total{resource="apikeys"} 1');
    expect(
      await b.registry.getSingleMetricAsString('rancher_apikey_operator_informer_restarts_total'),
    ).not.toContain('resource="apikeys"');
  });

  it('counts an error reconcile in both reconcile_total and reconcile_errors_total', async () => {
    const m = createMetrics();
    const c = m.controller('apikey');
    c.reconciled('success', 0.02);
    c.reconciled('error', 0.5);
    c.reconciled('error', 0.1);
    const text = await m.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="apikey",result="success"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="apikey",result="error"} 2');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="apikey"} 2');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="apikey"} 3');
  });

  it('tracks active workers up and down', async () => {
    const m = createMetrics();
    const c = m.controller('apikey');
    c.setMaxConcurrentReconciles(4);
    c.workerStarted();
    c.workerStarted();
    c.workerFinished();
    const text = await m.registry.metrics();
    expect(text).toContain('controller_runtime_active_workers{controller="apikey"} 1');
    expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="apikey"} 4');
  });

  it('samples in-flight work from the queue probe at scrape time', async () => {
    const m = createMetrics();
    let longest = 1.5;
    m.workqueue('apikey').setInFlightProbe(() => ({ unfinishedSeconds: 3, longestRunningSeconds: longest }));
    expect(await m.registry.metrics()).toContain(
      'workqueue_longest_running_processor_seconds{name="apikey"} 1.5',
    );
    longest = 7;
    const text = await m.registry.metrics();
    expect(text).toContain('workqueue_longest_running_processor_seconds{name="apikey"} 7');
    expect(text).toContain('workqueue_unfinished_work_seconds{name="apikey"} 3');
  });

  it('labels rancher requests by action and status and REST requests by code and upper-case method', async () => {
    const m = createMetrics();
    m.rancherRequest('create', 201, 0.03);
    m.rancherRequest('create', 'UND_ERR_SOCKET', 1);
    m.restClientRequest(409, 'put');
    m.setLeader('rancher-apikey-operator', true);
    const text = await m.registry.metrics();
    expect(text).toContain('rancher_apikey_operator_rancher_requests_total{action="create",status="201"} 1');
    expect(text).toContain(
      'rancher_apikey_operator_rancher_requests_total{action="create",status="UND_ERR_SOCKET"} 1',
    );
    expect(text).toContain(
      'rancher_apikey_operator_rancher_request_duration_seconds_count{action="create"} 2',
    );
    expect(text).toContain('rest_client_requests_total{code="409",method="PUT"} 1');
    expect(text).toContain('leader_election_master_status{name="rancher-apikey-operator"} 1');
  });
});
