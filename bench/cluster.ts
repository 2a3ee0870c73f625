import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, loadAllYaml } from '@kubernetes/client-node';

/** ROOT is the repository root (bench/ lives directly under it). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** BenchCluster is the control plane the benchmark runs against: its admin kubeconfig and kubectl. */
export interface BenchCluster {
  kubeconfigPath: string;
  kubectlPath: string;
  /** stateDir is where identity kubeconfigs are written (removed with the control plane). */
  stateDir: string;
}

/** KubectlResult is the exit code and output of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** adminKubeConfig loads a fresh admin KubeConfig for the cluster. */
export function adminKubeConfig(cluster: BenchCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return kc;
}

/** runKubectl runs the cluster's kubectl as admin with `args`; it never throws on a non-zero exit code. */
export function runKubectl(cluster: BenchCluster, args: string[]): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cluster.kubectlPath, [`--kubeconfig=${cluster.kubeconfigPath}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** ensureCrds applies crds/ server-side (idempotent) and waits until they are established. */
export async function ensureCrds(cluster: BenchCluster): Promise<void> {
  const dir = join(ROOT, 'crds');
  const r = await runKubectl(cluster, ['apply', '--server-side', '--force-conflicts', '-f', dir]);
  if (r.code !== 0) throw new Error(`cannot apply CRDs: ${r.stderr}`);
  const w = await runKubectl(cluster, ['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
  if (w.code !== 0) throw new Error(`CRDs not established: ${w.stderr}`);
}

const RBAC_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** deployRbac renders deploy/ with kustomize and returns only its RBAC objects (the operator's identity). */
export async function deployRbac(cluster: BenchCluster): Promise<object[]> {
  const r = await runKubectl(cluster, ['kustomize', join(ROOT, 'deploy')]);
  if (r.code !== 0) throw new Error(`cannot render deploy/ with kustomize: ${r.stderr}`);
  const docs: unknown[] = loadAllYaml(r.stdout);
  return docs.filter(
    (d): d is object => typeof d === 'object' && d !== null && 'kind' in d && RBAC_KINDS.has(String(d.kind)),
  );
}
