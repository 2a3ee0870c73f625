import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  VersionApi,
  Watch,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitUntil } from '../control-plane/processes.ts';
import {
  connect,
  createTestNamespace,
  kubectl,
  restartApiserver,
  restartEtcd,
} from '../control-plane/testing.ts';

const cluster = connect();
const kc = cluster.kubeConfig();
const core = kc.makeApiClient(CoreV1Api);

const GROUP = 'harness.keyops.dev';
const NamedObjectSchema = z.object({ metadata: z.object({ name: z.string() }) });

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
          },
        },
      },
    ],
  },
};

async function isGone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return true;
    throw err;
  }
}

/** Opens a watch on `path` and resolves with the name of the first ADDED object that `accept`s. */
async function watchForAdded(
  config: KubeConfig,
  path: string,
  accept: (name: string) => boolean,
): Promise<{ added: Promise<string>; stop: () => void }> {
  let resolveAdded: (name: string) => void = () => undefined;
  const added = new Promise<string>((resolve) => {
    resolveAdded = resolve;
  });
  const controller = await new Watch(config).watch(
    path,
    {},
    (phase, obj) => {
      const parsed = NamedObjectSchema.safeParse(obj);
      if (phase === 'ADDED' && parsed.success && accept(parsed.data.metadata.name))
        resolveAdded(parsed.data.metadata.name);
    },
    () => undefined,
  );
  return { added, stop: () => controller.abort() };
}

describe('the test control plane', () => {
  it('reports Kubernetes v1.36.3 on /version, to the API and to the built kubectl', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.36.3');
    const result = await kubectl(['version', '-o', 'json']);
    expect(result.code).toBe(0);
    const parsed = z
      .object({
        clientVersion: z.object({ gitVersion: z.string() }),
        serverVersion: z.object({ gitVersion: z.string() }),
      })
      .parse(JSON.parse(result.stdout));
    expect(parsed).toEqual({
      clientVersion: expect.objectContaining({ gitVersion: 'v1.36.3' }),
      serverVersion: expect.objectContaining({ gitVersion: 'v1.36.3' }),
    });
  });

  it('establishes a CRD and streams a new custom object over a watch', async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: widgetCrd }).catch((err: unknown) => {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    });
    await waitUntil(
      'CRD Established',
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: widgetCrd.metadata.name });
        return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
      },
      { timeoutMs: 20_000 },
    );
    const namespace = await createTestNamespace(kc, 'crd-watch');
    const custom = kc.makeApiClient(CustomObjectsApi);
    const target = { group: GROUP, version: 'v1', namespace, plural: 'widgets' };
    await waitUntil(
      'widgets served',
      async () => (await custom.listNamespacedCustomObject(target)) !== undefined,
      {
        timeoutMs: 10_000,
      },
    );
    const watch = await watchForAdded(
      kc,
      `/apis/${GROUP}/v1/namespaces/${namespace}/widgets`,
      (n) => n === 'w1',
    );
    try {
      const body = { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } };
      await custom.createNamespacedCustomObject({ ...target, body });
      await expect(watch.added).resolves.toBe('w1');
    } finally {
      watch.stop();
    }
    const invalid = {
      apiVersion: `${GROUP}/v1`,
      kind: 'Widget',
      metadata: { name: 'w2' },
      spec: { size: 0 },
    };
    await expect(custom.createNamespacedCustomObject({ ...target, body: invalid })).rejects.toMatchObject({
      code: 422,
    });
  });

  it('garbage-collects an object whose owner was deleted', async () => {
    const namespace = await createTestNamespace(kc, 'gc');
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    const uid = z.string().parse(owner.metadata?.uid);
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }];
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'dependent', ownerReferences } },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'owner' });
    await waitUntil(
      'dependent deleted by the garbage collector',
      () => isGone(() => core.readNamespacedConfigMap({ namespace, name: 'dependent' })),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  it('finishes deleting a namespace with content (namespace controller)', async () => {
    const namespace = await createTestNamespace(kc, 'ns-delete');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'content' } } });
    await core.deleteNamespace({ name: namespace });
    await waitUntil('namespace deleted', () => isGone(() => core.readNamespace({ name: namespace })), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  });

  it('keeps data across an apiserver restart and existing clients reconnect', async () => {
    const namespace = await createTestNamespace(kc, 'restart');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'before' }, data: { k: 'v' } },
    });
    await restartApiserver({ downMs: 200 });
    const kept = await core.readNamespacedConfigMap({ namespace, name: 'before' });
    expect(kept.data).toEqual({ k: 'v' });
    const watch = await watchForAdded(kc, `/api/v1/namespaces/${namespace}/configmaps`, (n) => n === 'after');
    try {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after' } } });
      await expect(watch.added).resolves.toBe('after');
    } finally {
      watch.stop();
    }
  });

  it('keeps data across an etcd crash and restart', async () => {
    const namespace = await createTestNamespace(kc, 'etcd-restart');
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'durable' }, data: { k: 'v' } },
    });
    await restartEtcd({ crash: true, downMs: 500 });
    const kept = await core.readNamespacedConfigMap({ namespace, name: 'durable' });
    expect(kept.data).toEqual({ k: 'v' });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-etcd' } } });
  });
});
