import { GROUP, type KINDS, VERSION } from '../api/names.ts';
import type { KubeApis } from './client.ts';
import { KubeError } from './errors.ts';
import { seg } from './http.ts';

type Plural = (typeof KINDS)[keyof typeof KINDS]['plural'];

/** ResourceWriter patches metadata and status of this operator's custom resources. */
export interface ResourceWriter {
  /**
   * setFinalizers replaces metadata.finalizers, guarded by resourceVersion (409 if the object changed); returns
   * the new resourceVersion.
   */
  setFinalizers(
    plural: Plural,
    ns: string | undefined,
    name: string,
    finalizers: string[],
    rv: string,
  ): Promise<string | undefined>;
  /** patchStatus merge-patches the status subresource; returns the new resourceVersion. */
  patchStatus(
    plural: Plural,
    ns: string | undefined,
    name: string,
    status: object,
  ): Promise<string | undefined>;
}

function rvOf(obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null || !('metadata' in obj)) return undefined;
  const meta = obj.metadata;
  if (typeof meta !== 'object' || meta === null || !('resourceVersion' in meta)) return undefined;
  return typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
}

const MERGE_PATCH = 'application/merge-patch+json';

/** createResourceWriter implements ResourceWriter with JSON merge patches (plain JSON requests, see http.ts). */
export function createResourceWriter(apis: KubeApis): ResourceWriter {
  const { http } = apis;
  const path = (plural: Plural, ns: string | undefined, name: string) =>
    `/apis/${GROUP}/${VERSION}${ns ? `/namespaces/${seg(ns)}` : ''}/${plural}/${seg(name)}`;
  return {
    async setFinalizers(plural, ns, name, finalizers, rv) {
      const body = { metadata: { resourceVersion: rv, finalizers } };
      try {
        return rvOf(await http.request<unknown>('PATCH', path(plural, ns, name), body, MERGE_PATCH));
      } catch (err) {
        throw new KubeError(`update finalizers of ${plural} ${ns ?? ''}/${name}`, err);
      }
    },
    async patchStatus(plural, ns, name, status) {
      try {
        const out = await http.request<unknown>(
          'PATCH',
          `${path(plural, ns, name)}/status`,
          { status },
          MERGE_PATCH,
        );
        return rvOf(out);
      } catch (err) {
        throw new KubeError(`update status of ${plural} ${ns ?? ''}/${name}`, err);
      }
    },
  };
}
