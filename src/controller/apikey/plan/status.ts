import type { ConditionInput } from '../../../api/conditions.ts';
import type { Observation, Plan, PlannedEvent } from '../model.ts';

/** READY_REASONS are the Ready reasons that describe a finished, healthy key. */
export const READY_REASONS = { active: 'KeyActive', inactive: 'KeyInactive' } as const;

/** readyTrue builds the condition set of a converged key. */
export function readyTrue(reason: string, message: string): ConditionInput[] {
  return [{ type: 'Ready', status: 'True', reason, message }];
}

/** progressing builds the condition set of a key the operator is still working on (kstatus Reconciling). */
export function progressing(reason: string, message: string): ConditionInput[] {
  return [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Reconciling', status: 'True', reason, message },
  ];
}

/** stalled builds the condition set of a key that cannot progress without a human (kstatus Stalled). */
export function stalled(reason: string, message: string): ConditionInput[] {
  return [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Stalled', status: 'True', reason, message },
  ];
}

/** warnOnNewReason returns a Warning event when the Ready reason differs from the one already reported. */
export function warnOnNewReason(o: Observation, reason: string, message: string): PlannedEvent[] {
  const previous = o.apiKey.status?.conditions?.find((c) => c.type === 'Ready');
  return previous?.reason === reason && previous.message === message
    ? []
    : [{ type: 'Warning', reason, message }];
}

/** blocked returns a plan that only records why the key cannot progress (plus any metadata actions). */
export function blocked(
  o: Observation,
  actions: Plan['actions'],
  why: { reason: string; message: string; terminal: boolean; retry?: boolean },
): Plan {
  const conditions = why.terminal ? stalled(why.reason, why.message) : progressing(why.reason, why.message);
  return {
    actions,
    status: { ...keepFields(o), conditions },
    events: warnOnNewReason(o, why.reason, why.message),
    requeueAfterMs: why.terminal || why.retry ? undefined : 30_000,
    retry: why.retry ?? false,
  };
}

/** keepFields carries over the status fields a blocked pass does not change. */
export function keepFields(o: Observation): NonNullable<Plan['status']> {
  const s = o.apiKey.status ?? {};
  return {
    conditions: [],
    id: s.id,
    publicValue: s.publicValue,
    rancherState: s.rancherState,
    accountId: s.accountId,
    secretName: o.secretName,
    retiring: s.retiring,
    keyCreatedAt: s.keyCreatedAt,
    rotation: s.rotation,
    adopted: s.adopted,
    lastHandledReconcileAt: o.apiKey.metadata.annotations?.['rancher.keyops.dev/reconcile-requested-at'],
  };
}
