import { conditionsEqual, mergeConditions } from '../../../api/conditions.ts';
import { formatTimestamp } from '../../../api/time.ts';
import { stableJson } from '../../stable-json.ts';
import { type LastWritten, rememberWrite, wroteLast } from '../last-written.ts';
import type { PlannedStatus } from '../model.ts';
import type { ExecContext, ExecuteDeps } from './context.ts';

const FIELDS = [
  'id',
  'publicValue',
  'rancherState',
  'accountId',
  'secretName',
  'lastHandledReconcileAt',
  'keyCreatedAt',
] as const;

/**
 * writeStatus merge-patches status when the planned status differs from the current one (and from
 * what this process last wrote, which a lagging cache may not show yet): a steady state writes nothing.
 */
export async function writeStatus(
  ctx: ExecContext,
  deps: ExecuteDeps,
  lastWritten: LastWritten,
  planned: PlannedStatus,
): Promise<void> {
  const { apiKey } = ctx;
  const current = apiKey.status ?? {};
  const generation = apiKey.metadata.generation;
  const now = formatTimestamp(deps.now());
  const conditions = mergeConditions(current.conditions, planned.conditions, now, generation);
  const next: Record<string, unknown> = { observedGeneration: generation, conditions };
  for (const f of FIELDS) next[f] = planned[f] ?? null;
  next.retiring = planned.retiring && planned.retiring.length > 0 ? planned.retiring : null;
  next.rotation = planned.rotation ?? null;
  next.adopted = planned.adopted ?? null;
  next.plannedActions = null;

  const unchanged =
    current.observedGeneration === generation &&
    conditionsEqual(current.conditions, conditions) &&
    FIELDS.every((f) => (current[f] ?? null) === next[f]) &&
    stableJson(current.retiring ?? null) === stableJson(next.retiring) &&
    stableJson(current.rotation ?? null) === stableJson(next.rotation) &&
    stableJson(current.adopted ?? null) === stableJson(next.adopted) &&
    current.plannedActions === undefined;
  const fingerprint = JSON.stringify({
    ...next,
    conditions: conditions.map(({ lastTransitionTime, ...c }) => c),
  });
  if (unchanged || wroteLast(lastWritten, apiKey.metadata, fingerprint)) return;
  ctx.crash('after-secret-before-status');
  await deps.resources.patchStatus('apikeys', apiKey.metadata.namespace, apiKey.metadata.name, next);
  rememberWrite(lastWritten, apiKey.metadata, fingerprint);
}
