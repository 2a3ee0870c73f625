import type { KubeApis } from '../kube/client.ts';
import { isNotFound, KubeError } from '../kube/errors.ts';

/** createNamespaceLabels returns a reader of namespace labels with a short cache (for connection allow-lists). */
export function createNamespaceLabels(
  apis: KubeApis,
  ttlMs = 10_000,
): (name: string) => Promise<Record<string, string> | undefined> {
  const cache = new Map<string, { at: number; labels: Record<string, string> | undefined }>();
  return async (name) => {
    const hit = cache.get(name);
    if (hit && Date.now() - hit.at < ttlMs) return hit.labels;
    let labels: Record<string, string> | undefined;
    try {
      labels = (await apis.core.readNamespace({ name }, apis.options)).metadata?.labels ?? {};
    } catch (err) {
      if (!isNotFound(err)) throw new KubeError(`read Namespace ${name}`, err);
    }
    cache.set(name, { at: Date.now(), labels });
    return labels;
  };
}
