import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { identityFromRbac } from '../test/control-plane/identity.ts';
import { type OperatorProcess, startOperatorProcess } from '../test/e2e/support/operator-process.ts';
import { adminKubeConfig, type BenchCluster, deployRbac, ensureCrds, ROOT } from './cluster.ts';
import { type BenchClient, createBenchClient } from './kube-client.ts';
import { type BuiltOperator, buildOperator, deployedTuning } from './operator-build.ts';
import type { BenchOptions } from './options.ts';
import { waitFor } from './pool.ts';
import { type BenchRancher, startRancherInProcess, startRancherProcess } from './rancher.ts';

/** OPERATOR_NAMESPACE is where deploy/ installs the operator (its ServiceAccount and Lease live there). */
export const OPERATOR_NAMESPACE = 'rancher-apikey-operator-system';
const GROUP = 'rancher.keyops.dev';
const VERSION = 'v1alpha1';

/** BenchEnvironment is everything one benchmark run uses besides the control plane itself. */
export interface BenchEnvironment {
  runId: string;
  cluster: BenchCluster;
  /** admin is a system:masters client (the benchmark's "user"); identity is the operator's ServiceAccount. */
  admin: KubeConfig;
  identity: KubeConfig;
  identityKubeconfigPath: string;
  /** adminClient / identityClient reuse connections; the benchmark's own load goes through them. */
  adminClient: BenchClient;
  identityClient: BenchClient;
  emulator: BenchRancher;
  /** keyNamespaces hold the ApiKeys; plainNamespace the baseline Secrets; unrelatedNamespace the 10k Secrets. */
  keyNamespaces: string[];
  plainNamespace: string;
  unrelatedNamespace: string;
  /** built is the operator compiled like the image; it runs as `node dist/.../src/main.js`. */
  built: BuiltOperator;
  /** tuning is the Deployment's NODE_OPTIONS and MALLOC_* variables (deploy/base/deployment.yaml). */
  tuning: Record<string, string>;
  /** memoryFile is where bench/memory-probe.mjs writes the operator's memory breakdown on SIGUSR2. */
  memoryFile: string;
  operator?: OperatorProcess;
}

async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels: { 'bench.keyops.dev/bench': 'true' } } } });
}

async function createConnection(env: BenchEnvironment, ns: string): Promise<void> {
  const core = env.admin.makeApiClient(CoreV1Api);
  const custom = env.admin.makeApiClient(CustomObjectsApi);
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'rancher-credentials', namespace: ns },
      stringData: { accessKey: env.emulator.admin.accessKey, secretKey: env.emulator.admin.secretKey },
    },
  });
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'rancherconnections',
    namespace: ns,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'RancherConnection',
      metadata: { name: 'rancher', namespace: ns },
      spec: { url: env.emulator.url, version: 'v1', credentialsSecretRef: { name: 'rancher-credentials' } },
    },
  });
}

/**
 * prepareEnvironment applies the CRDs, starts the emulator (with `--rancher-latency-ms` as a latency fault),
 * creates the run's namespaces, the operator's deploy/ identity, and a credentials Secret plus
 * RancherConnection in every key namespace. The operator is started later (startOperator).
 */
export async function prepareEnvironment(
  cluster: BenchCluster,
  opts: BenchOptions,
): Promise<BenchEnvironment> {
  const runId = randomBytes(3).toString('hex');
  const admin = adminKubeConfig(cluster);
  const core = admin.makeApiClient(CoreV1Api);
  const built = await buildOperator(runId);
  await ensureCrds(cluster);
  await createNamespace(core, OPERATOR_NAMESPACE).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  const emulator = opts.emulatorInProcess
    ? await startRancherInProcess(opts.rancherLatencyMs)
    : await startRancherProcess(opts.rancherLatencyMs);
  const keyNamespaces = Array.from({ length: opts.namespaces }, (_, i) => `bench-${runId}-keys-${i}`);
  const plainNamespace = `bench-${runId}-plain`;
  const unrelatedNamespace = `bench-${runId}-unrelated`;
  for (const ns of [...keyNamespaces, plainNamespace, unrelatedNamespace]) await createNamespace(core, ns);
  const identity = await identityFromRbac(admin, {
    namespace: OPERATOR_NAMESPACE,
    serviceAccount: 'rancher-apikey-operator',
    manifests: await deployRbac(cluster),
    dir: join(cluster.stateDir, 'identities'),
  });
  const identityKc = identity.kubeConfig();
  const env: BenchEnvironment = {
    runId,
    cluster,
    admin,
    identity: identityKc,
    identityKubeconfigPath: identity.kubeconfigPath,
    adminClient: await createBenchClient(admin),
    identityClient: await createBenchClient(identityKc),
    emulator,
    keyNamespaces,
    plainNamespace,
    unrelatedNamespace,
    built,
    tuning: await deployedTuning(),
    memoryFile: join(cluster.stateDir, `operator-memory-${runId}.json`),
  };
  for (const ns of keyNamespaces) await createConnection(env, ns);
  return env;
}

const MEMORY_PROBE = join(ROOT, 'bench', 'memory-probe.mjs');

/**
 * operatorTuning is the Deployment's NODE_OPTIONS and MALLOC_* variables, so the operator's memory is what a
 * cluster sees, plus the benchmark's own: --expose-gc and the memory probe (a forced GC before heap samples).
 */
function operatorTuning(env: BenchEnvironment, opts: BenchOptions): Record<string, string> {
  const flags = [
    env.tuning.NODE_OPTIONS,
    '--expose-gc',
    `--import=${MEMORY_PROBE}`,
    ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
    ...(opts.operatorNodeOptions ? [opts.operatorNodeOptions] : []),
  ];
  return {
    ...env.tuning,
    NODE_OPTIONS: flags.join(' '),
    BENCH_MEMORY_FILE: env.memoryFile,
    ...(opts.heapSnapshotDir ? { BENCH_HEAP_SNAPSHOT_DIR: opts.heapSnapshotDir } : {}),
  };
}

/**
 * startOperator runs the operator as its own process with the deploy/ identity, watching the run's key
 * namespaces and the unrelated-Secrets namespace, and waits until it is ready and every connection is Ready.
 */
export async function startOperator(env: BenchEnvironment, opts: BenchOptions): Promise<OperatorProcess> {
  const operator = startOperatorProcess({
    kubeconfigPath: env.identityKubeconfigPath,
    entry: env.built.main,
    env: {
      NODE_ENV: 'production',
      WATCH_NAMESPACES: [...env.keyNamespaces, env.unrelatedNamespace].join(','),
      POD_NAMESPACE: OPERATOR_NAMESPACE,
      POD_NAME: `bench-${env.runId}`,
      LEADER_ELECTION_ID: `bench-${env.runId}`,
      CONCURRENCY: String(opts.concurrency),
      DRIFT_CHECK_INTERVAL: `${opts.driftCheckIntervalS}s`,
      LOG_LEVEL: opts.operatorLogLevel,
      ...operatorTuning(env, opts),
    },
  });
  env.operator = operator;
  await operator.waitReady(60_000);
  const custom = env.admin.makeApiClient(CustomObjectsApi);
  for (const ns of env.keyNamespaces) {
    await waitFor(
      `RancherConnection ${ns}/rancher Ready`,
      async () => {
        const c: unknown = await custom.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'rancherconnections',
          namespace: ns,
          name: 'rancher',
        });
        return hasReady(c);
      },
      60_000,
      200,
    );
  }
  return operator;
}

function hasReady(obj: unknown): boolean {
  if (typeof obj !== 'object' || obj === null || !('status' in obj)) return false;
  const status = obj.status;
  if (typeof status !== 'object' || status === null || !('conditions' in status)) return false;
  const conditions = status.conditions;
  return (
    Array.isArray(conditions) &&
    conditions.some(
      (c: unknown) =>
        typeof c === 'object' &&
        c !== null &&
        'type' in c &&
        'status' in c &&
        c.type === 'Ready' &&
        c.status === 'True',
    )
  );
}

/** teardownEnvironment stops the operator and the emulator; with `deleteNamespaces` it also deletes the run's namespaces. */
export async function teardownEnvironment(env: BenchEnvironment, deleteNamespaces: boolean): Promise<void> {
  // Each step on its own: a failure (or a second call from a signal handler) must not skip the others.
  const steps: (() => Promise<unknown> | undefined)[] = [
    () => env.operator?.stop(),
    () => env.emulator.close(),
    () => env.adminClient.close(),
    () => env.identityClient.close(),
    () => env.built.remove(),
  ];
  for (const step of steps)
    await Promise.resolve()
      .then(step)
      .catch(() => undefined);
  if (!deleteNamespaces) return;
  const core = env.admin.makeApiClient(CoreV1Api);
  for (const ns of [...env.keyNamespaces, env.plainNamespace, env.unrelatedNamespace]) {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
}
