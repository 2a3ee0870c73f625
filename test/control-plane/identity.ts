import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { writeKubeconfig } from './kubeconfig.ts';
import { waitUntil } from './processes.ts';
import {
  expectedGrants,
  type ProbeAttributes,
  parseRbacManifests,
  type RbacManifests,
} from './rbac-manifests.ts';

/** Identity is a ServiceAccount token with the permissions its RBAC manifests grant, and a kubeconfig for it. */
export interface Identity {
  kubeconfigPath: string;
  token: string;
  username: string;
  kubeConfig(): KubeConfig;
}

const FIELD_MANAGER = 'rancher-apikey-test-harness';
const TOKEN_SECONDS = 24 * 60 * 60;
const TokenResponseSchema = z.object({ status: z.object({ token: z.string().min(1) }) });
const ReviewResponseSchema = z.object({ status: z.object({ allowed: z.boolean() }).optional() });

async function createServiceAccount(core: CoreV1Api, namespace: string, name: string): Promise<void> {
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

async function allowed(authz: AuthorizationV1Api, user: string, groups: string[], probe: ProbeAttributes) {
  const { path, ...resource } = probe;
  const spec =
    path === undefined
      ? { user, groups, resourceAttributes: resource }
      : { user, groups, nonResourceAttributes: { path, verb: probe.verb } };
  const review = ReviewResponseSchema.parse(await authz.createSubjectAccessReview({ body: { spec } }));
  return review.status?.allowed === true;
}

function clusterOf(kc: KubeConfig): { server: string; caData: string } {
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new Error('cannot build an identity: the admin kubeconfig has no current cluster');
  const caData =
    cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  if (caData === undefined) throw new Error('cannot build an identity: the admin kubeconfig has no CA');
  return { server: cluster.server, caData };
}

/**
 * identityFromRbac (as the admin `kc`) creates ServiceAccount `serviceAccount` in `namespace`, server-side
 * applies the RBAC `manifests` (objects, a YAML file path or YAML text; Role/ClusterRole/RoleBinding/
 * ClusterRoleBinding only), waits until the authorizer grants what the applied roles allow, requests a
 * 24 h token and writes a kubeconfig for it into `dir` (default: the OS temp dir). The identity has
 * exactly those permissions plus what every authenticated ServiceAccount has (discovery, self reviews).
 */
export async function identityFromRbac(
  kc: KubeConfig,
  opts: {
    namespace: string;
    serviceAccount: string;
    manifests: RbacManifests;
    skipOtherKinds?: boolean;
    dir?: string;
  },
): Promise<Identity> {
  const { namespace, serviceAccount } = opts;
  const core = kc.makeApiClient(CoreV1Api);
  await createServiceAccount(core, namespace, serviceAccount);
  const objects = parseRbacManifests(opts.manifests, namespace, opts);
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    await client.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
  const username = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
  const isSubject = (s: { kind: string; name: string; namespace?: string }) =>
    (s.kind === 'ServiceAccount' && s.name === serviceAccount && (s.namespace ?? namespace) === namespace) ||
    (s.kind === 'User' && s.name === username) ||
    (s.kind === 'Group' && groups.includes(s.name));
  const authz = kc.makeApiClient(AuthorizationV1Api);
  for (const probe of expectedGrants(objects, isSubject)) {
    await waitUntil(
      `RBAC to grant ${JSON.stringify(probe)} to ${username}`,
      () => allowed(authz, username, groups, probe),
      {
        timeoutMs: 15_000,
        intervalMs: 50,
      },
    );
  }
  const response = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } },
  });
  const token = TokenResponseSchema.parse(response).status.token;
  const dir = opts.dir ?? join(tmpdir(), 'rancher-apikey-identities');
  await mkdir(dir, { recursive: true });
  const kubeconfigPath = join(dir, `${namespace}.${serviceAccount}.kubeconfig`);
  await writeKubeconfig(kubeconfigPath, { ...clusterOf(kc), user: { token } });
  return {
    kubeconfigPath,
    token,
    username,
    kubeConfig() {
      const identityKc = new KubeConfig();
      identityKc.loadFromFile(kubeconfigPath);
      return identityKc;
    },
  };
}
