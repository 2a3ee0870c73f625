import type { V1Secret } from '@kubernetes/client-node';
import type { KubeApis } from './client.ts';
import { isNotFound, KubeError } from './errors.ts';
import { seg } from './http.ts';

/** SecretStore reads and writes Secrets; errors never include Secret contents. */
export interface SecretStore {
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** create makes a new Secret; fails with Conflict if one appeared meanwhile (never overwrites). */
  create(secret: V1Secret): Promise<V1Secret>;
  /** replace overwrites a Secret at the resourceVersion it carries (optimistic concurrency). */
  replace(secret: V1Secret): Promise<V1Secret>;
  /** delete removes a Secret only if it still has the given uid; absent is success. */
  delete(namespace: string, name: string, uid: string): Promise<void>;
}

/** createSecretStore implements SecretStore with plain JSON requests (see http.ts). */
export function createSecretStore(apis: KubeApis): SecretStore {
  const { http } = apis;
  const path = (namespace: string, name?: string) =>
    `/api/v1/namespaces/${seg(namespace)}/secrets${name === undefined ? '' : `/${seg(name)}`}`;
  return {
    async read(namespace, name) {
      try {
        return await http.request<V1Secret>('GET', path(namespace, name));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw new KubeError(`read Secret ${namespace}/${name}`, err);
      }
    },
    async create(secret) {
      const namespace = secret.metadata?.namespace ?? '';
      try {
        return await http.request<V1Secret>('POST', path(namespace), secret);
      } catch (err) {
        throw new KubeError(`create Secret ${namespace}/${secret.metadata?.name}`, err);
      }
    },
    async replace(secret) {
      const namespace = secret.metadata?.namespace ?? '';
      const name = secret.metadata?.name ?? '';
      try {
        return await http.request<V1Secret>('PUT', path(namespace, name), secret);
      } catch (err) {
        throw new KubeError(`replace Secret ${namespace}/${name}`, err);
      }
    },
    async delete(namespace, name, uid) {
      try {
        await http.request('DELETE', path(namespace, name), { preconditions: { uid } });
      } catch (err) {
        if (isNotFound(err)) return;
        throw new KubeError(`delete Secret ${namespace}/${name}`, err);
      }
    },
  };
}
