import type { KubernetesObject } from '@kubernetes/client-node';
import { connectionQueueKey } from '../controller/connection/reconcile.ts';
import type { InformerHandlers } from './informers.ts';

/** Enqueue is the only thing an informer handler may do. */
export type Enqueue = (key: string) => void;

function refOf(o: KubernetesObject): { kind?: string; name?: string } | undefined {
  const spec = (o as { spec?: { connectionRef?: { kind?: unknown; name?: unknown } } }).spec;
  const ref = spec?.connectionRef;
  if (!ref) return undefined;
  return {
    kind: typeof ref.kind === 'string' ? ref.kind : 'RancherConnection',
    name: typeof ref.name === 'string' ? ref.name : undefined,
  };
}

/**
 * createHandlers maps informer events to queue keys: an ApiKey to itself, an owned Secret to its
 * ApiKey, a connection to itself and to every cached ApiKey that refers to it.
 */
export function createHandlers(
  enqueue: Enqueue,
  apiKeys: () => readonly KubernetesObject[],
): InformerHandlers {
  const referring = (kind: string, name: string, ns: string | undefined) => {
    for (const k of apiKeys()) {
      const ref = refOf(k);
      if (ref?.kind === kind && ref.name === name && (ns === undefined || k.metadata?.namespace === ns)) {
        enqueue(`${k.metadata?.namespace}/${k.metadata?.name}`);
      }
    }
  };
  return {
    apiKey(o) {
      if (o.metadata?.namespace && o.metadata.name) enqueue(`${o.metadata.namespace}/${o.metadata.name}`);
    },
    secret(o) {
      const owner = o.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'ApiKey');
      if (owner && o.metadata?.namespace) enqueue(`${o.metadata.namespace}/${owner.name}`);
    },
    connection(o) {
      const ns = o.metadata?.namespace;
      const name = o.metadata?.name;
      if (!ns || !name) return;
      enqueue(connectionQueueKey('RancherConnection', ns, name));
      referring('RancherConnection', name, ns);
    },
    clusterConnection(o) {
      const name = o.metadata?.name;
      if (!name) return;
      enqueue(connectionQueueKey('ClusterRancherConnection', '', name));
      referring('ClusterRancherConnection', name, undefined);
    },
  };
}
