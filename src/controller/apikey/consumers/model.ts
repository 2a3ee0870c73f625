import type { WorkloadKind } from '../../../kube/workloads.ts';

/** WorkloadRef names a workload in the ApiKey namespace. */
export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

/** WorkloadView is what the planner needs of a consumer: which rotation it was restarted for, and whether it rolled out. */
export interface WorkloadView extends WorkloadRef {
  /** The publicValue its pod template's restarted-for annotation names, if any (not a secret). */
  restartedFor: string | undefined;
  /** Its controller reports every replica updated and available at its latest generation. */
  rolledOut: boolean;
}

/**
 * ConsumersView is what observe saw of the consumers to restart: not looked at (no restart is pending), not
 * possible (the operator runs without consumer restarts), failed to read, or the workloads found.
 */
export type ConsumersView =
  | { state: 'notPending' }
  | { state: 'disabled' }
  | { state: 'error'; message: string }
  | { state: 'observed'; workloads: WorkloadView[] };

/** RestartConsumersAction sets the restarted-for annotation on each workload's pod template (a rolling restart). */
export interface RestartConsumersAction {
  type: 'RestartConsumers';
  workloads: WorkloadRef[];
  /** The publicValue of the key the Secret now holds (not a secret): the annotation value. */
  publicValue: string;
  /** Rancher id of that key, for the Event. */
  id: string;
}

/** describeWorkloads lists workloads as "Deployment/a, StatefulSet/b". */
export function describeWorkloads(workloads: readonly WorkloadRef[]): string {
  return workloads.map((w) => `${w.kind}/${w.name}`).join(', ');
}
