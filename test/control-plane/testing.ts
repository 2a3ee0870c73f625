// Helpers for integration and end-to-end test files (they run in vitest workers, not in the global setup).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { identityFromRbac as buildIdentity, type Identity } from './identity.ts';
import { type RestartOptions, restartComponent } from './lifecycle.ts';
import { ProvidedControlPlaneSchema } from './provided.ts';
import type { RbacManifests } from './rbac-manifests.ts';

export type { Identity } from './identity.ts';
export type { RestartOptions } from './lifecycle.ts';
export type { RbacManifests } from './rbac-manifests.ts';

/** TestCluster is the control plane of the current test run, as seen from a test worker. */
export interface TestCluster {
  kubeconfigPath: string;
  kubectlPath: string;
  stateDir: string;
  server: string;
  /** kubeConfig returns a fresh admin (system:masters) KubeConfig. */
  kubeConfig(): KubeConfig;
}

/** connect returns the control plane the integration global setup started; it throws outside that project. */
export function connect(): TestCluster {
  const parsed = ProvidedControlPlaneSchema.safeParse(inject('controlPlane'));
  if (!parsed.success) {
    throw new Error(
      'connect() needs the control plane of vitest project `integration` (its global setup provides it)',
    );
  }
  const provided = parsed.data;
  return {
    ...provided,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(provided.kubeconfigPath);
      return kc;
    },
  };
}

/**
 * createTestNamespace creates a namespace named `<prefix>-<random>` (a valid DNS label) with `labels`
 * and returns its name; every test gets its own, so nothing depends on namespace deletion.
 */
export async function createTestNamespace(
  kc: KubeConfig,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  const name = `${base || 'test'}-${randomBytes(4).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

/**
 * identityFromRbac creates ServiceAccount `serviceAccount` in `namespace`, applies `manifests` and returns
 * a token identity with exactly those permissions (see identity.ts); its kubeconfig lives in the run's
 * state dir and is removed with it.
 */
export function identityFromRbac(
  kc: KubeConfig,
  opts: { namespace: string; serviceAccount: string; manifests: RbacManifests; skipOtherKinds?: boolean },
): Promise<Identity> {
  return buildIdentity(kc, { ...opts, dir: join(connect().stateDir, 'identities') });
}

/**
 * restartApiserver stops kube-apiserver (SIGTERM, or SIGKILL with `crash`), keeps it down `downMs`, and
 * starts it again on the same port with the same certificates; resolves once `/readyz` is 200.
 */
export function restartApiserver(opts?: RestartOptions): Promise<void> {
  return restartComponent(connect().stateDir, 'apiserver', opts);
}

/**
 * restartEtcd stops etcd, keeps it down `downMs`, and starts it again with the same data dir and port;
 * resolves once etcd is healthy and the apiserver's `/readyz` is 200 again.
 */
export function restartEtcd(opts?: RestartOptions): Promise<void> {
  return restartComponent(connect().stateDir, 'etcd', opts);
}

/** KubectlResult is the exit code and output of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * kubectl runs the kubectl built with the control plane with `args`, against the admin kubeconfig unless
 * `kubeconfig` is given, feeding `input` to stdin; it never throws on a non-zero exit code.
 */
export function kubectl(
  args: string[],
  opts: { kubeconfig?: string; input?: string } = {},
): Promise<KubectlResult> {
  const cluster = connect();
  const kubeconfig = opts.kubeconfig ?? cluster.kubeconfigPath;
  return new Promise((resolve, reject) => {
    const child = spawn(cluster.kubectlPath, [`--kubeconfig=${kubeconfig}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // kubectl may exit before it reads stdin (a usage error, a killed run): the exit code and stderr tell what
    // happened, so an EPIPE on its stdin is not an error of its own (it surfaced as an uncaught exception).
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
