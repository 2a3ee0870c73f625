import { conditionsEqual, mergeConditions } from '../../../api/conditions.ts';
import { formatTimestamp } from '../../../api/time.ts';
import { stableJson } from '../../stable-json.ts';
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
  }
}

/**
 * recordPlan is plan mode's only write: status.plannedActions (exactly the actions the next real
 * reconcile would execute, in order) and a Planned condition, written only when they changed.
 */
export async function recordPlan(o: Observation, p: Plan, deps: ExecuteDeps): Promise<void> {
  const { apiKey } = o;
  const planned = p.actions.map((a) => ({ action: a.type, detail: describeAction(o, a) }));
  const message =
    planned.length === 0
      ? 'plan mode: nothing to change'
      : `plan mode: would ${planned.map((x) => x.action).join(', ')}`;
  const keep = (apiKey.status?.conditions ?? []).filter((c) => c.type !== 'Planned');
  const desired = [
    ...keep.map(({ type, status, reason, message: m }) => ({ type, status, reason, message: m })),
    {
      type: 'Planned',
      status: 'True' as const,
      reason: planned.length === 0 ? 'NoChanges' : 'ChangesPending',
      message,
    },
  ];
  const now = formatTimestamp(deps.now());
  const conditions = mergeConditions(apiKey.status?.conditions, desired, now, apiKey.metadata.generation);
  const same =
    stableJson(apiKey.status?.plannedActions ?? []) === stableJson(planned) &&
    conditionsEqual(apiKey.status?.conditions, conditions);
  if (same) return;
  await deps.resources.patchStatus('apikeys', apiKey.metadata.namespace, apiKey.metadata.name, {
    plannedActions: planned,
    conditions,
  });
}
