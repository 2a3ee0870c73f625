import { type ConditionInput, conditionsEqual, mergeConditions } from '../../../api/conditions.ts';
import { formatTimestamp } from '../../../api/time.ts';
import { stableJson } from '../../stable-json.ts';
import { describeWorkloads } from '../consumers/model.ts';
import type { Action, Observation, Plan } from '../model.ts';
import type { ExecuteDeps } from './context.ts';

/** describeAction says in words what an action would change; used for plan mode. */
export function describeAction(o: Observation, a: Action): string {
  const env = o.apiKey.spec.environment ? ` in environment ${o.apiKey.spec.environment}` : '';
  switch (a.type) {
    case 'AddFinalizer':
      return 'add finalizer rancher.keyops.dev/finalizer to this ApiKey';
    case 'RemoveFinalizer':
      return 'remove finalizer rancher.keyops.dev/finalizer from this ApiKey';
    case 'CreateKey':
      return `create Rancher key "${o.desiredName}"${env} and write its values to Secret ${o.secretName}`;
    case 'StageKey':
      return `create the next Rancher key "${o.desiredName}"${env} for a rotation`;
    case 'PromoteKey':
      return `write the values of Rancher key ${a.id} to Secret ${o.secretName}, replacing key ${a.replaces}`;
    case 'WriteSecret':
      return `rewrite Secret ${o.secretName} to match the spec`;
    case 'RestartConsumers':
      return `rolling restart of ${describeWorkloads(a.workloads)} onto Rancher key ${a.id}`;
    case 'DeleteSecret':
      return `delete Secret ${o.secretName}`;
    case 'UpdateKey':
      return `set name "${a.name}" and description "${a.description}" on Rancher key ${a.id}`;
    case 'ActivateKey':
      return `activate Rancher key ${a.id}`;
    case 'DeactivateKey':
      return `deactivate Rancher key ${a.id}`;
    case 'RemoveKey':
      return `remove Rancher key ${a.id}`;
    case 'PurgeKey':
      return `purge Rancher key ${a.id}`;
    case 'AdoptKey':
      return `adopt Rancher key ${a.id}: set its name "${o.desiredName}" and this ApiKey's ownership marker, write its values to Secret ${o.secretName}`;
    case 'RetireKeys':
      return `${a.stopAtRemoved ? 'deactivate and remove' : 'deactivate, remove and purge'} Rancher key ${a.ids.join(', ')}`;
  }
}

/** PLAN_REASONS are the Ready reasons of plan mode: both say that no change was applied. */
export const PLAN_REASONS = { pending: 'PlanNotApplied', none: 'PlanNoChanges' } as const;

/**
 * planConditions is plan mode's condition set. Ready is always present and says no change was applied: False
 * (PlanNotApplied) while the plan holds actions, True (PlanNoChanges) when the key is already as the spec asks.
 * Nothing is in progress, so Reconciling is dropped; a blocked plan (connection, Rancher) keeps its own
 * conditions, Stalled included. `Planned` carries the plan in short.
 */
export function planConditions(
  p: Plan,
  planned: { action: string }[],
  previous: ConditionInput[],
): ConditionInput[] {
  const base = p.status?.conditions ?? previous.filter((c) => c.type !== 'Planned');
  const ready = base.find((c) => c.type === 'Ready');
  const list = planned.map((x) => x.action).join(', ');
  const plannedCondition: ConditionInput = {
    type: 'Planned',
    status: 'True',
    reason: planned.length === 0 ? 'NoChanges' : 'ChangesPending',
    message: planned.length === 0 ? 'plan mode: nothing to change' : `plan mode: would ${list}`,
  };
  if (planned.length === 0 && ready?.status !== 'True') {
    const message = `plan mode: cannot plan: ${ready?.message ?? 'Rancher was not asked'}`;
    return [...base, { type: 'Planned', status: 'False', reason: 'CannotPlan', message }];
  }
  const others = base.filter((c) => !['Ready', 'Reconciling', 'Stalled'].includes(c.type));
  const readyCondition: ConditionInput =
    planned.length === 0
      ? {
          type: 'Ready',
          status: 'True',
          reason: PLAN_REASONS.none,
          message: `plan mode: no change applied, none needed (${ready?.message ?? 'the key is as the spec asks'})`,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: PLAN_REASONS.pending,
          message: `plan mode: no change applied; set spec.mode to Apply to ${list}`,
        };
  return [readyCondition, ...others, plannedCondition];
}

/**
 * recordPlan is plan mode's only write: status.plannedActions (exactly the actions the next real reconcile would
 * execute, in order), observedGeneration and the conditions of planConditions, written only when they changed.
 * A pass that learned nothing (paused, or Rancher not asked) leaves status alone.
 */
export async function recordPlan(o: Observation, p: Plan, deps: ExecuteDeps): Promise<void> {
  const { apiKey } = o;
  if (o.paused || (p.status === undefined && p.actions.length === 0)) return;
  const planned = p.actions.map((a) => ({ action: a.type, detail: describeAction(o, a) }));
  const previous = (apiKey.status?.conditions ?? []).map(({ type, status, reason, message }) => ({
    type,
    status,
    reason,
    message,
  }));
  const desired = planConditions(p, planned, previous);
  const now = formatTimestamp(deps.now());
  const generation = apiKey.metadata.generation;
  const conditions = mergeConditions(apiKey.status?.conditions, desired, now, generation);
  const same =
    apiKey.status?.observedGeneration === generation &&
    stableJson(apiKey.status?.plannedActions ?? []) === stableJson(planned) &&
    conditionsEqual(apiKey.status?.conditions, conditions);
  if (same) return;
  await deps.resources.patchStatus('apikeys', apiKey.metadata.namespace, apiKey.metadata.name, {
    observedGeneration: generation,
    plannedActions: planned,
    conditions,
  });
}
