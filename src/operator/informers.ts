import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { GROUP, LABELS, MANAGED_BY_VALUE, VERSION } from '../api/names.ts';
import type { ObjectCache } from '../controller/connection/resolver.ts';
import type { KubeApis } from '../kube/client.ts';
import { createResilientInformer, type ResilientInformer } from '../kube/informer.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { cacheableResource } from './resource-cache.ts';
import { cacheableSecret } from './secret-cache.ts';

/** Handlers receive objects from every informer; they only enqueue keys and never throw. */
export interface InformerHandlers {
  apiKey(obj: KubernetesObject): void;
  secret(obj: KubernetesObject): void;
  connection(obj: KubernetesObject): void;
  clusterConnection(obj: KubernetesObject): void;
}

/** Informers are the operator's caches, scoped to its watch namespaces and label selector. */
export interface Informers {
  apiKeys: ObjectCache & { list(): readonly KubernetesObject[] };
  secrets: ObjectCache;
  connections: ObjectCache;
  clusterConnections: ObjectCache & { list(): readonly KubernetesObject[] };
  start(): Promise<void>;
  stop(): Promise<void>;
  hasSynced(): boolean;
}

interface Scope {
  namespaces: string[];
  labelSelector: string;
  /** False: ClusterRancherConnections are not watched (CLUSTER_CONNECTIONS=false; no RBAC needed). */
  clusterConnections?: boolean;
}

type List = KubernetesListObject<KubernetesObject>;

function custom(
  apis: KubeApis,
  plural: string,
  ns: string | undefined,
  labelSelector?: string,
): () => Promise<List> {
  const base = { group: GROUP, version: VERSION, plural, labelSelector: labelSelector || undefined };
  return () =>
    (ns
      ? apis.custom.listNamespacedCustomObject({ ...base, namespace: ns }, apis.options)
      : apis.custom.listClusterCustomObject(base, apis.options)) as Promise<List>;
}

/**
 * createInformers builds one informer per resource and watched namespace (or one cluster-wide):
 * ApiKeys (with the shard label selector), connections, and only the Secrets this operator
 * manages (label selector), so unrelated Secrets never enter memory. Every cache keeps only the fields the
 * controllers read (cacheableResource, cacheableSecret): no managedFields, no foreign annotations.
 */
export function createInformers(
  kc: KubeConfig,
  apis: KubeApis,
  scope: Scope,
  handlers: InformerHandlers,
  deps: { logger: Logger; metrics: Metrics },
): Informers {
  const nss: (string | undefined)[] = scope.namespaces.length > 0 ? scope.namespaces : [undefined];
  const secretSelector = `${LABELS.managedBy}=${MANAGED_BY_VALUE}`;
  const make = (
    name: string,
    path: string,
    listFn: () => Promise<List>,
    on: (o: KubernetesObject) => void,
    labelSelector?: string,
    transform?: (o: KubernetesObject) => KubernetesObject,
  ) =>
    createResilientInformer<KubernetesObject>({
      name,
      kubeConfig: kc,
      path,
      listFn,
      labelSelector: labelSelector || undefined,
      transform,
      onAdd: on,
      onUpdate: on,
      onDelete: on,
      logger: deps.logger,
      metrics: deps.metrics,
      watchDispatcher: apis.watchDispatcher,
    });
  const crPath = (plural: string, ns?: string) =>
    ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`;
  const apiKeys = nss.map((ns) =>
    make(
      'apikeys',
      crPath('apikeys', ns),
      custom(apis, 'apikeys', ns, scope.labelSelector),
      handlers.apiKey,
      scope.labelSelector,
      cacheableResource,
    ),
  );
  const connections = nss.map((ns) =>
    make(
      'rancherconnections',
      crPath('rancherconnections', ns),
      custom(apis, 'rancherconnections', ns),
      handlers.connection,
      undefined,
      cacheableResource,
    ),
  );
  // Anyone who may create Secrets can label them managed-by: the cache keeps data only for small Secrets an
  // ApiKey controls (cacheableSecret), and the list is read in pages so a relist never holds them all at once.
  const secrets = nss.map((ns) =>
    make(
      'secrets',
      ns ? `/api/v1/namespaces/${ns}/secrets` : '/api/v1/secrets',
      () =>
        listInPages(
          (page) =>
            (ns
              ? apis.core.listNamespacedSecret({ namespace: ns, ...page }, apis.options)
              : apis.core.listSecretForAllNamespaces(page, apis.options)) as Promise<List>,
          secretSelector,
          cacheableSecret,
        ),
      handlers.secret,
      secretSelector,
      cacheableSecret,
    ),
  );
  const cluster =
    scope.clusterConnections === false
      ? undefined
      : make(
          'clusterrancherconnections',
          crPath('clusterrancherconnections'),
          custom(apis, 'clusterrancherconnections', undefined),
          handlers.clusterConnection,
          undefined,
          cacheableResource,
        );
  const all = [...apiKeys, ...connections, ...secrets, ...(cluster ? [cluster] : [])];
  return {
    apiKeys: multi(apiKeys, nss),
    secrets: multi(secrets, nss),
    connections: multi(connections, nss),
    clusterConnections: { get: (name) => cluster?.get(name), list: () => cluster?.list() ?? [] },
    start: async () => {
      await Promise.all(all.map((i) => i.start()));
    },
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
    hasSynced: () => all.every((i) => i.hasSynced()),
  };
}

/** SECRET_PAGE is the Secret list page size: at most this many Secrets (1 MiB each at worst) are parsed at once. */
const SECRET_PAGE = 100;

type Page = { labelSelector: string; limit: number; _continue?: string };

/** listInPages reads a list page by page, transforming each page before the next is fetched. */
async function listInPages(
  fetch: (page: Page) => Promise<List>,
  labelSelector: string,
  transform: (o: KubernetesObject) => KubernetesObject,
): Promise<List> {
  const items: KubernetesObject[] = [];
  let next: string | undefined;
  let last: List;
  do {
    last = await fetch({ labelSelector, limit: SECRET_PAGE, _continue: next });
    for (const item of last.items) items.push(transform(item));
    next = last.metadata?._continue || undefined;
  } while (next);
  return { ...last, items, metadata: { resourceVersion: last.metadata?.resourceVersion } };
}

function multi(
  informers: ResilientInformer<KubernetesObject>[],
  nss: (string | undefined)[],
): ObjectCache & { list(): readonly KubernetesObject[] } {
  return {
    get(name, namespace) {
      const i = nss.length === 1 && nss[0] === undefined ? informers[0] : informers[nss.indexOf(namespace)];
      return i?.get(name, namespace);
    },
    list: () => informers.flatMap((i) => [...i.list()]),
  };
}
