import type { ApiKey } from '../../../api/apikey.ts';
import { WORKLOAD_KINDS } from '../../../api/apikey.ts';
import type { Workload, WorkloadStore } from '../../../kube/workloads.ts';
import type { ConsumersView } from './model.ts';
import { referencesSecret, viewWorkload } from './workload-status.ts';

/**
 * restartPending reports whether a rotation's consumers may need a restart or a rollout check: the ApiKey asks for
 * restarts and a key it rotated away from is still within its overlap (status.retiring, reason Rotated).
 */
export function restartPending(apiKey: ApiKey, nowMs: number): boolean {
  if (!apiKey.spec.rotation?.restartConsumers) return false;
  return (apiKey.status?.retiring ?? []).some(
    (r) => r.reason === 'Rotated' && r.notBefore !== undefined && Date.parse(r.notBefore) > nowMs,
  );
}

/**
 * observeConsumers reads the workloads a pending restart concerns, in the ApiKey namespace only: those whose pod
 * template references the Secret (when discover is on) and those listed. Read-only; a failure is data.
 */
export async function observeConsumers(
  apiKey: ApiKey,
  secretName: string,
  nowMs: number,
  store: WorkloadStore | undefined,
): Promise<ConsumersView> {
  if (!restartPending(apiKey, nowMs)) return { state: 'notPending' };
  if (!store) return { state: 'disabled' };
  const spec = apiKey.spec.rotation?.restartConsumers;
  const namespace = apiKey.metadata.namespace ?? '';
  const found = new Map<string, Workload>();
  const add = (w: Workload) => found.set(`${w.kind}/${w.object.metadata?.name}`, w);
  try {
    if (spec?.discover !== false) {
      for (const kind of WORKLOAD_KINDS) {
        for (const w of await store.list(namespace, kind))
          if (referencesSecret(w.object.spec?.template?.spec, secretName)) add(w);
      }
    }
    for (const ref of spec?.workloads ?? []) {
      if (found.has(`${ref.kind}/${ref.name}`)) continue;
      const w = await store.get(namespace, ref.kind, ref.name);
      if (w) add(w);
    }
  } catch (err) {
    return { state: 'error', message: err instanceof Error ? err.message : 'cannot read workloads' };
  }
  const workloads = [...found.values()].map(viewWorkload);
  workloads.sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
  return { state: 'observed', workloads };
}
