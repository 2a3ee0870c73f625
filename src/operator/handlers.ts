import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS } from '../api/names.ts';
import { connectionRefOfObject } from '../controller/connection/ref.ts';
import type { ConnectionId } from '../controller/connection/types.ts';
import type { ObjectKey } from '../controller/object-key.ts';
import type { InformerHandlers } from './informers.ts';

/** Enqueue is the only thing an informer handler may do: add a typed key to the queue of its kind. */
export interface Enqueue {
  apiKey(key: ObjectKey): void;
  /** An ApiKey whose connection changed: its pass must run even if its own objects show only its own writes. */
  apiKeyDependency(key: ObjectKey): void;
  connection(id: ConnectionId): void;
}

/**
 * createHandlers maps informer events to queue keys: an ApiKey to itself, an owned Secret to its
 * ApiKey, a connection to itself and to every cached ApiKey that refers to it.
 */
export function createHandlers(
  enqueue: Enqueue,
  apiKeys: () => readonly KubernetesObject[],
): InformerHandlers {
  const referring = (id: ConnectionId) => {
    const cluster = id.kind === 'ClusterRancherConnection';
    for (const k of apiKeys()) {
      const ref = connectionRefOfObject(k);
      const name = k.metadata?.name;
      if (!name || !ref?.namespace || ref.kind !== id.kind || ref.name !== id.name) continue;
      if (cluster || ref.namespace === id.namespace)
        enqueue.apiKeyDependency({ namespace: ref.namespace, name });
    }
  };
  const connection = (id: ConnectionId) => {
    enqueue.connection(id);
    referring(id);
  };
  return {
    apiKey(o) {
      if (o.metadata?.namespace && o.metadata.name)
        enqueue.apiKey({ namespace: o.metadata.namespace, name: o.metadata.name });
    },
    secret(o) {
      const owner = o.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'ApiKey');
      // A retained Secret (no owner reference) names its ApiKey in its label (the name itself when it fits; a
      // longer name's Secret is then found at its ApiKey's next drift check).
      const retained =
        o.metadata?.annotations?.[ANNOTATIONS.apiKeyUid] && o.metadata.labels?.[LABELS.apiKeyName];
      const name = owner?.name ?? (retained || undefined);
      if (name && o.metadata?.namespace) enqueue.apiKey({ namespace: o.metadata.namespace, name });
    },
    connection(o) {
      const ns = o.metadata?.namespace;
      const name = o.metadata?.name;
      if (ns && name) connection({ kind: 'RancherConnection', namespace: ns, name });
    },
    clusterConnection(o) {
      const name = o.metadata?.name;
      if (name) connection({ kind: 'ClusterRancherConnection', namespace: '', name });
    },
  };
}
