import type { V1PodSpec } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../../api/names.ts';
import type { Workload } from '../../../kube/workloads.ts';
import type { WorkloadView } from './model.ts';

/**
 * referencesSecret reports whether a pod spec reads the Secret: an env valueFrom.secretKeyRef or an envFrom
 * secretRef of any container (init and ephemeral ones included), a secret volume or a projected volume source.
 */
export function referencesSecret(pod: V1PodSpec | undefined, secretName: string): boolean {
  if (!pod) return false;
  const containers = [
    ...(pod.containers ?? []),
    ...(pod.initContainers ?? []),
    ...(pod.ephemeralContainers ?? []),
  ];
  const inEnv = containers.some(
    (c) =>
      (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === secretName) ||
      (c.envFrom ?? []).some((e) => e.secretRef?.name === secretName),
  );
  const inVolumes = (pod.volumes ?? []).some(
    (v) =>
      v.secret?.secretName === secretName ||
      (v.projected?.sources ?? []).some((s) => s.secret?.name === secretName),
  );
  return inEnv || inVolumes;
}

/**
 * rolledOut applies `kubectl rollout status`'s rules: the controller observed the latest generation and every
 * desired replica is updated and available, with no old one left. An OnDelete StatefulSet or DaemonSet never rolls
 * out by itself, so it counts as not rolled out (the overlap ends the wait).
 */
export function rolledOut(w: Workload): boolean {
  const generation = w.object.metadata?.generation ?? 0;
  const observed = w.object.status?.observedGeneration ?? -1;
  if (observed < generation) return false;
  if (w.kind === 'Deployment') {
    const s = w.object.status;
    const want = w.object.spec?.replicas ?? 1;
    const updated = s?.updatedReplicas ?? 0;
    return updated >= want && (s?.replicas ?? 0) <= updated && (s?.availableReplicas ?? 0) >= updated;
  }
  if (w.kind === 'StatefulSet') {
    const s = w.object.status;
    if (w.object.spec?.updateStrategy?.type === 'OnDelete') return false;
    const want = w.object.spec?.replicas ?? 1;
    return (
      (s?.updatedReplicas ?? 0) >= want &&
      (s?.readyReplicas ?? 0) >= want &&
      (s?.updateRevision === undefined || s.currentRevision === s.updateRevision)
    );
  }
  const s = w.object.status;
  if (w.object.spec?.updateStrategy?.type === 'OnDelete') return false;
  const want = s?.desiredNumberScheduled ?? 0;
  return (s?.updatedNumberScheduled ?? 0) >= want && (s?.numberAvailable ?? 0) >= want;
}

/** viewWorkload reduces a workload to what the planner needs (no pod spec, no values). */
export function viewWorkload(w: Workload): WorkloadView {
  return {
    kind: w.kind,
    name: w.object.metadata?.name ?? '',
    restartedFor: w.object.spec?.template?.metadata?.annotations?.[ANNOTATIONS.restartedFor],
    rolledOut: rolledOut(w),
  };
}
