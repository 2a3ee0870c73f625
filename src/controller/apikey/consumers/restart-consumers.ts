import { ANNOTATIONS } from '../../../api/names.ts';
import type { WorkloadStore } from '../../../kube/workloads.ts';
import type { ExecContext } from '../execute/context.ts';
import { describeWorkloads, type RestartConsumersAction, type WorkloadRef } from './model.ts';

/**
 * restartConsumers starts a rolling restart of each workload, the way `kubectl rollout restart` does: it sets the
 * restarted-for annotation (the new key's publicValue, not a secret) on the pod template, with a merge patch that
 * changes nothing else. Repeating it is harmless: the same value is no change. A workload gone meanwhile is skipped.
 */
export async function restartConsumers(
  ctx: ExecContext,
  store: WorkloadStore | undefined,
  action: RestartConsumersAction,
): Promise<void> {
  if (!store) throw new Error('cannot restart consumers: this operator runs without consumer restarts');
  const namespace = ctx.apiKey.metadata.namespace ?? '';
  const restarted: WorkloadRef[] = [];
  for (const w of action.workloads) {
    const annotations = { [ANNOTATIONS.restartedFor]: action.publicValue };
    if (await store.annotateTemplate(namespace, w.kind, w.name, annotations)) restarted.push(w);
  }
  if (restarted.length === 0) return;
  await ctx.event(
    'Normal',
    'RestartedConsumers',
    `rolling restart of ${describeWorkloads(restarted)} onto Rancher key ${action.id} (Secret ${ctx.observation.secretName})`,
    'RestartConsumers',
  );
}
