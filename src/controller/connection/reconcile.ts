import type { KubernetesObject } from '@kubernetes/client-node';
import { ObjectMetaSchema } from '../../api/common.ts';
import { conditionsEqual, mergeConditions } from '../../api/conditions.ts';
import {
  ClusterRancherConnectionSpecSchema,
  type ConnectionStatus,
  ConnectionStatusSchema,
  RancherConnectionSpecSchema,
} from '../../api/connection.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ResourceWriter } from '../../kube/resources.ts';
import type { KeyMetrics } from '../../observability/key-metrics.ts';
import type { ReconcileResult } from '../result.ts';
import { stableJson } from '../stable-json.ts';
import { cleanOrphans, findOrphans, isLiveOrphan, type OrphanKey } from './orphans.ts';
import type { ConnectionId, ConnectionResolver, ObjectCache } from './resolver.ts';

/** ConnectionReconcileDeps are the effects a connection status pass uses. */
export interface ConnectionReconcileDeps {
  connections: ObjectCache;
  clusterConnections: ObjectCache;
  resolver: ConnectionResolver;
  resources: ResourceWriter;
  now(): number;
  recheckMs: number;
  apiKeys: { list(): readonly KubernetesObject[] };
  watchNamespaces: readonly string[];
  events: EventRecorder;
  keyMetrics?: KeyMetrics;
}

/** NOT_READY_RECHECK_MS is how often a connection that is not Ready is checked again. */
export const NOT_READY_RECHECK_MS = 5_000;

/**
 * reconcileConnection checks that a connection's credentials work and reports whose they are and
 * whether they may supply key values, writing status only when it changed.
 */
export async function reconcileConnection(
  id: ConnectionId,
  deps: ConnectionReconcileDeps,
): Promise<ReconcileResult> {
  const { kind, name, namespace: ns } = id;
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
    const specSchema =
      kind === 'RancherConnection' ? RancherConnectionSpecSchema : ClusterRancherConnectionSpecSchema;
    const spec = specSchema.safeParse((raw as { spec?: unknown }).spec);
    let orphans: OrphanKey[] = [];
    let remaining = 0;
    if (r.client) {
      const envs = (status.orphans?.keys ?? [])
        .map((k) => k.environment)
        .filter((e): e is string => e !== undefined);
      const scope = { apiKeys: deps.apiKeys.list(), watchNamespaces: deps.watchNamespaces };
      const clean = spec.success && spec.data.orphanPolicy === 'Delete';
      const found = await findOrphans(r.client, { kind, name, namespace: ns }, scope, envs, clean);
      if (clean && found.length > 0) remaining = await cleanOrphans(r.client, found);
      orphans = found.filter(isLiveOrphan);
    }
    const label = `${kind}/${ns ? `${ns}/` : ''}${name}`;
    deps.keyMetrics?.setOrphans(label, orphans.length);
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
      orphans: r.client ? orphanStatus(orphans) : (status.orphans ?? null),
    };
    const same =
      status.observedGeneration === generation &&
      conditionsEqual(status.conditions, conditions) &&
      (status.accountId ?? null) === next.accountId &&
      (status.accountKind ?? null) === next.accountKind &&
      (status.canSupplyValues ?? null) === next.canSupplyValues &&
      stableJson(status.orphans ?? null) === stableJson(next.orphans);
    if (!same) {
      const plural = kind === 'RancherConnection' ? 'rancherconnections' : 'clusterrancherconnections';
      await deps.resources.patchStatus(plural, kind === 'RancherConnection' ? ns : undefined, name, next);
    }
    if (r.client && orphans.length !== (status.orphans?.count ?? 0) && orphans.length > 0) {
      const list = orphans
        .slice(0, 5)
        .map((o) => `${o.key.id} (${o.apiKey})`)
        .join(', ');
      const what =
        spec.success && spec.data.orphanPolicy === 'Delete'
          ? 'retiring them'
          : 'set spec.orphanPolicy: Delete to retire them';
      await deps.events.record(
        {
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          kind,
          name,
          namespace: ns || undefined,
          uid: meta.data.uid,
        },
        'Warning',
        'OrphanKeysFound',
        `${orphans.length} Rancher key(s) with this operator's marker belong to no ApiKey: ${list}; ${what}`,
        'Inventory',
      );
    }
    // A connection that does not work is re-read every few seconds (the resolver caches the Secret for 5 s
    // and a refused identity for 10 s, so this costs little): a credential fix shows within seconds, and the
    // status change re-queues every ApiKey that refers to it.
    const recheck = remaining > 0 ? 1_000 : deps.recheckMs;
    return { kind: 'done', requeueAfterMs: r.view.ok ? recheck : Math.min(recheck, NOT_READY_RECHECK_MS) };
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err : new Error('connection check failed') };
  }
}

function orphanStatus(orphans: readonly OrphanKey[]): NonNullable<ConnectionStatus['orphans']> {
  return {
    count: orphans.length,
    keys: orphans.slice(0, 20).map((o) => ({
      id: o.key.id,
      publicValue: o.key.publicValue,
      apiKey: o.apiKey,
      ...(o.environment ? { environment: o.environment } : {}),
    })),
  };
}
