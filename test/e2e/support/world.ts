import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import {
  connect,
  createTestNamespace,
  identityFromRbac,
  kubectl,
  type TestCluster,
} from '../../control-plane/testing.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../emulator/index.ts';
import { type OperatorProcess, startOperatorProcess } from './operator-process.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** OPERATOR_NAMESPACE is where deploy/ installs the operator (its ServiceAccount, Lease and Role live there). */
export const OPERATOR_NAMESPACE = 'rancher-apikey-operator-system';
const RBAC_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** World is one end-to-end environment: control plane, emulator, the operator process and test namespaces. */
export interface World {
  cluster: TestCluster;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  emulator: Emulator;
  namespaces: string[];
  operator: OperatorProcess;
  operatorKubeconfig: string;
  operatorEnv: Record<string, string>;
  /** restartOperator kills (or stops) the operator and starts a new process with the same identity. */
  restartOperator(opts?: { crash?: boolean; env?: Record<string, string> }): Promise<void>;
  stop(): Promise<void>;
}

/** ensureCrds applies crds/ for real (idempotent) and waits until they are established. */
export async function ensureCrds(): Promise<void> {
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, 'crds')]);
  if (r.code !== 0) throw new Error(`cannot apply CRDs: ${r.stderr}`);
  const w = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  if (w.code !== 0) throw new Error(`CRDs not established: ${w.stderr}`);
}

/**
 * deployRbac renders deploy/ (or another kustomization under the repository, such as
 * deploy/overlays/consumer-restarts) with kustomize and returns only its RBAC objects (the operator's identity).
 */
export async function deployRbac(dir = 'deploy'): Promise<object[]> {
  const r = await kubectl(['kustomize', join(ROOT, dir)]);
  if (r.code !== 0) throw new Error(`cannot render ${dir} with kustomize: ${r.stderr}`);
  const docs: unknown[] = loadAllYaml(r.stdout);
  return docs.filter(
    (d): d is object =>
      typeof d === 'object' && d !== null && RBAC_KINDS.has(String((d as { kind?: unknown }).kind)),
  );
}

async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
}

/**
 * startWorld brings up an emulator, `namespaceCount` fresh namespaces, and the operator as its own
 * process with exactly deploy/'s RBAC, watching only those namespaces (so suites never see each other).
 */
export async function startWorld(opts: {
  namespaceCount?: number;
  emulator?: EmulatorOptions;
  env?: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  /** The kustomization whose RBAC the operator runs with; default deploy/. */
  kustomize?: string;
}): Promise<World> {
  const cluster = connect();
  const kc = cluster.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  await ensureCrds();
  await ensureNamespace(core, OPERATOR_NAMESPACE);
  const emulator = await startEmulator({
    transitionDelayMs: 20,
    autoPurgeDelayMs: 600_000,
    ...opts.emulator,
  });
  const namespaces: string[] = [];
  for (let i = 0; i < (opts.namespaceCount ?? 1); i++) {
    namespaces.push(await createTestNamespace(kc, 'e2e', opts.namespaceLabels ?? {}));
  }
  const identity = await identityFromRbac(kc, {
    namespace: OPERATOR_NAMESPACE,
    serviceAccount: 'rancher-apikey-operator',
    manifests: await deployRbac(opts.kustomize),
  });
  const operatorEnv: Record<string, string> = {
    WATCH_NAMESPACES: namespaces.join(','),
    POD_NAMESPACE: OPERATOR_NAMESPACE,
    POD_NAME: `e2e-${randomBytes(3).toString('hex')}`,
    LEADER_ELECTION_ID: `e2e-${randomBytes(4).toString('hex')}`,
    DRIFT_CHECK_INTERVAL: '3s',
    ...opts.env,
  };
  const world: World = {
    cluster,
    kc,
    core,
    custom,
    emulator,
    namespaces,
    operator: startOperatorProcess({ kubeconfigPath: identity.kubeconfigPath, env: operatorEnv }),
    operatorKubeconfig: identity.kubeconfigPath,
    operatorEnv,
    async restartOperator(r) {
      if (r?.crash) await world.operator.kill();
      else await world.operator.stop();
      world.operator = startOperatorProcess({
        kubeconfigPath: identity.kubeconfigPath,
        env: { ...operatorEnv, ...r?.env },
      });
      await world.operator.waitReady();
    },
    async stop() {
      await world.operator.stop();
      await emulator.close();
    },
  };
  await world.operator.waitReady();
  return world;
}
