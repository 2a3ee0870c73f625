import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { connect, createTestNamespace, identityFromRbac, kubectl } from '../control-plane/testing.ts';

const kc = connect().kubeConfig();

async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describe('identityFromRbac', () => {
  it('grants what a Role allows in its namespace and returns 403 for everything else', async () => {
    const namespace = await createTestNamespace(kc, 'rbac-role');
    const other = await createTestNamespace(kc, 'rbac-other');
    const identity = await identityFromRbac(kc, {
      namespace,
      serviceAccount: 'reader',
      manifests: [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'configmap-editor' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'reader-configmap-editor' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-editor' },
          subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
        },
      ],
    });
    const asIdentity = identity.kubeConfig().makeApiClient(CoreV1Api);
    const admin = kc.makeApiClient(CoreV1Api);
    await admin.createNamespacedConfigMap({ namespace: other, body: { metadata: { name: 'elsewhere' } } });

    await asIdentity.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'mine' } } });
    const list = await asIdentity.listNamespacedConfigMap({ namespace });
    expect(list.items.map((cm) => cm.metadata?.name)).toContain('mine');
    expect(await statusOf(() => asIdentity.readNamespacedConfigMap({ namespace, name: 'mine' }))).toBe(200);

    expect(await statusOf(() => asIdentity.deleteNamespacedConfigMap({ namespace, name: 'mine' }))).toBe(403);
    expect(await statusOf(() => asIdentity.listNamespacedSecret({ namespace }))).toBe(403);
    expect(
      await statusOf(() => asIdentity.readNamespacedConfigMap({ namespace: other, name: 'elsewhere' })),
    ).toBe(403);
    expect(await statusOf(() => asIdentity.listNamespace())).toBe(403);
    expect(identity.username).toBe(`system:serviceaccount:${namespace}:reader`);
  });

  it('accepts multi-document YAML with a ClusterRole bound in one namespace, usable from kubectl', async () => {
    const namespace = await createTestNamespace(kc, 'rbac-yaml');
    const suffix = namespace.slice(-8);
    const manifests = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-lister-${suffix}}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lister}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-lister-${suffix}}
subjects:
- {kind: ServiceAccount, name: lister, namespace: ${namespace}}
`;
    const identity = await identityFromRbac(kc, { namespace, serviceAccount: 'lister', manifests });
    const allowed = await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', namespace], {
      kubeconfig: identity.kubeconfigPath,
    });
    expect(allowed.stdout.trim()).toBe('yes');
    const denied = await kubectl(['get', 'secrets', '-n', 'default'], {
      kubeconfig: identity.kubeconfigPath,
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('forbidden');
  });

  it('rejects manifests that are not RBAC objects unless told to skip them', async () => {
    const namespace = await createTestNamespace(kc, 'rbac-reject');
    const manifests = [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }];
    await expect(identityFromRbac(kc, { namespace, serviceAccount: 'x', manifests })).rejects.toThrow();
    const skipped = await identityFromRbac(kc, {
      namespace,
      serviceAccount: 'x',
      manifests,
      skipOtherKinds: true,
    });
    const admin = kc.makeApiClient(CoreV1Api);
    expect(await statusOf(() => admin.readNamespacedSecret({ namespace, name: 'x' }))).toBe(404);
    const asIdentity = skipped.kubeConfig().makeApiClient(CoreV1Api);
    expect(await statusOf(() => asIdentity.listNamespacedConfigMap({ namespace }))).toBe(403);
  });
});
