import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeApis } from './client.ts';
import { isNotFound, KubeError } from './errors.ts';

/** ConfigMapStore reads ConfigMaps (a connection's CA bundle); it never writes them. */
export interface ConfigMapStore {
  /** read returns the ConfigMap, or undefined when it does not exist. */
  read(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
}

/** createConfigMapStore implements ConfigMapStore on the CoreV1 API. */
export function createConfigMapStore(apis: KubeApis): ConfigMapStore {
  return {
    async read(namespace, name) {
      try {
        return await apis.core.readNamespacedConfigMap({ namespace, name }, apis.options);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw new KubeError(`read ConfigMap ${namespace}/${name}`, err);
      }
    },
  };
}
