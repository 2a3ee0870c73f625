import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/names.ts';
import type { KubeApis } from './client.ts';
import { isNotFound, KubeError } from './errors.ts';

/** WorkloadKind is a kind of workload a rotation may restart. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** Workload is a Deployment, StatefulSet or DaemonSet as the apiserver returns it, tagged with its kind. */
export type Workload =
  | { kind: 'Deployment'; object: V1Deployment }
  | { kind: 'StatefulSet'; object: V1StatefulSet }
  | { kind: 'DaemonSet'; object: V1DaemonSet };

/** LIST_LIMIT bounds one discovery list per kind and namespace (more can be listed explicitly). */
export const LIST_LIMIT = 500;

/** WorkloadStore reads and restarts workloads in one namespace at a time (consumer restarts only). */
export interface WorkloadStore {
  /** list returns up to LIST_LIMIT workloads of a kind in a namespace. */
  list(namespace: string, kind: WorkloadKind): Promise<Workload[]>;
  /** get returns one workload, or undefined when it does not exist. */
  get(namespace: string, kind: WorkloadKind, name: string): Promise<Workload | undefined>;
  /** annotateTemplate merge-patches pod template annotations (a rolling restart); false when the workload is gone. */
  annotateTemplate(
    namespace: string,
    kind: WorkloadKind,
    name: string,
    annotations: Record<string, string>,
  ): Promise<boolean>;
}

/** createWorkloadStore implements WorkloadStore on the AppsV1 API (list, get and patch; never update). */
export function createWorkloadStore(apis: KubeApis): WorkloadStore {
  const { apps, options, mergePatch } = apis;
  const what = (kind: WorkloadKind, namespace: string, name = '') => `${kind} ${namespace}/${name}`;
  return {
    async list(namespace, kind) {
      const limit = LIST_LIMIT;
      try {
        if (kind === 'Deployment') {
          const l = await apps.listNamespacedDeployment({ namespace, limit }, options);
          return l.items.map((object) => ({ kind, object }));
        }
        if (kind === 'StatefulSet') {
          const l = await apps.listNamespacedStatefulSet({ namespace, limit }, options);
          return l.items.map((object) => ({ kind, object }));
        }
        const l = await apps.listNamespacedDaemonSet({ namespace, limit }, options);
        return l.items.map((object) => ({ kind, object }));
      } catch (err) {
        throw new KubeError(`list ${kind}s in ${namespace}`, err);
      }
    },
    async get(namespace, kind, name) {
      try {
        if (kind === 'Deployment')
          return { kind, object: await apps.readNamespacedDeployment({ namespace, name }, options) };
        if (kind === 'StatefulSet')
          return { kind, object: await apps.readNamespacedStatefulSet({ namespace, name }, options) };
        return { kind, object: await apps.readNamespacedDaemonSet({ namespace, name }, options) };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw new KubeError(`read ${what(kind, namespace, name)}`, err);
      }
    },
    async annotateTemplate(namespace, kind, name, annotations) {
      const body = { spec: { template: { metadata: { annotations } } } };
      const req = { namespace, name, body, fieldManager: FIELD_MANAGER };
      try {
        if (kind === 'Deployment') await apps.patchNamespacedDeployment(req, mergePatch);
        else if (kind === 'StatefulSet') await apps.patchNamespacedStatefulSet(req, mergePatch);
        else await apps.patchNamespacedDaemonSet(req, mergePatch);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw new KubeError(`restart ${what(kind, namespace, name)}`, err);
      }
    },
  };
}
