import { ObjectMetaSchema } from '../api/common.ts';
import { conditionsEqual, mergeConditions } from '../api/conditions.ts';
import { ConnectionStatusSchema } from '../api/connection.ts';
import type { ResourceWriter } from '../kube/resources.ts';
import type { ConnectionResolver, ObjectCache } from './connections.ts';
import type { ReconcileResult } from './reconcile.ts';

/** ConnectionReconcileDeps are the effects a connection status pass uses. */
export interface ConnectionReconcileDeps {
  connections: ObjectCache;
  clusterConnections: ObjectCache;
  resolver: ConnectionResolver;
  resources: ResourceWriter;
  now(): number;
  recheckMs: number;
}

/** connectionQueueKey is the work-queue key of a connection (ApiKeys use plain namespace/name). */
export function connectionQueueKey(
  kind: 'RancherConnection' | 'ClusterRancherConnection',
  ns: string,
  name: string,
): string {
  return `${kind}:${ns}/${name}`;
}

/**
 * reconcileConnection checks that a connection's credentials work and reports whose they are and
 * whether they may supply key values, writing status only when it changed.
 */
export async function reconcileConnection(
  key: string,
  deps: ConnectionReconcileDeps,
): Promise<ReconcileResult> {
  const m = key.match(/^(RancherConnection|ClusterRancherConnection):([^/]*)\/(.+)$/);
  const kind = m?.[1] === 'ClusterRancherConnection' ? 'ClusterRancherConnection' : 'RancherConnection';
  const ns = m?.[2] ?? '';
  const name = m?.[3] ?? '';
  const raw =
    kind === 'RancherConnection' ? deps.connections.get(name, ns) : deps.clusterConnections.get(name);
  if (raw === undefined || typeof raw !== 'object' || raw === null) return { kind: 'done' };
  const meta = ObjectMetaSchema.safeParse((raw as { metadata?: unknown }).metadata);
  if (!meta.success) return { kind: 'done' };
  const current = ConnectionStatusSchema.safeParse((raw as { status?: unknown }).status ?? {});
  const status = current.success ? current.data : {};
  try {
    const r = await deps.resolver.resolve({ kind, name, namespace: ns }, { anyNamespace: true });
    const generation = meta.data.generation;
    const ready = r.view.ok
      ? {
          type: 'Ready',
          status: 'True' as const,
          reason: 'CredentialsValid',
          message:
            `authenticated as Rancher account ${r.view.accountId} (${r.identity?.accountKind ?? 'unknown'})` +
            (r.view.canSupplyValues
              ? '; may supply key values (crash-safe create)'
              : '; cannot supply key values'),
        }
      : { type: 'Ready', status: 'False' as const, reason: r.view.reason, message: r.view.message };
    const now = new Date(deps.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const conditions = mergeConditions(status.conditions, [ready], now, generation);
    const next = {
      observedGeneration: generation,
      conditions,
      accountId: r.identity?.accountId ?? null,
      accountKind: r.identity?.accountKind ?? null,
      canSupplyValues: r.identity?.canSupplyValues ?? null,
    };
    const same =
      status.observedGeneration === generation &&
      conditionsEqual(status.conditions, conditions) &&
      (status.accountId ?? null) === next.accountId &&
      (status.accountKind ?? null) === next.accountKind &&
      (status.canSupplyValues ?? null) === next.canSupplyValues;
    if (!same) {
      const plural = kind === 'RancherConnection' ? 'rancherconnections' : 'clusterrancherconnections';
      await deps.resources.patchStatus(plural, kind === 'RancherConnection' ? ns : undefined, name, next);
    }
    return { kind: 'done', requeueAfterMs: r.view.ok ? deps.recheckMs : Math.min(deps.recheckMs, 30_000) };
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err : new Error('connection check failed') };
  }
}
