import type { KubernetesObject } from '@kubernetes/client-node';
import { ObjectMetaSchema } from '../../api/common.ts';
import {
  ClusterRancherConnectionSpecSchema,
  type ConnectionStatus,
  ConnectionStatusSchema,
  RancherConnectionSpecSchema,
} from '../../api/connection.ts';
import { formatTimestamp } from '../../api/time.ts';
import { findOrphans, type OrphanKey } from './orphans.ts';
import type { ConnectionId, ConnectionResolver, ObjectCache, Resolved } from './types.ts';

/** ConnectionObserveDeps are the read-only effects a connection pass observes through. */
export interface ConnectionObserveDeps {
  connections: ObjectCache;
  clusterConnections: ObjectCache;
  resolver: ConnectionResolver;
  now(): number;
  apiKeys: { list(): readonly KubernetesObject[] };
  watchNamespaces: readonly string[];
  /** Every ApiKey uid in the watch namespaces, when the cache holds only a label-selected share of them (see OrphanScope). */
  allApiKeyUids?: ((namespaces: readonly string[]) => Promise<ReadonlySet<string>>) | undefined;
}

/** ConnectionObservation is everything planConnection needs, gathered read-only. */
export interface ConnectionObservation {
  id: ConnectionId;
  /** The pass's time, RFC 3339 to the second. */
  now: string;
  uid: string;
  generation: number | undefined;
  /** The status the connection has now ({} when absent or unparseable). */
  status: ConnectionStatus;
  /** Whether spec.orphanPolicy is Delete (false when the spec does not parse). */
  deletesOrphans: boolean;
  resolved: Resolved;
  /** Marked keys whose ApiKey is gone (removed ones too when deletesOrphans); undefined without a client. */
  found: OrphanKey[] | undefined;
}

/**
 * observeConnection reads a connection from the cache, resolves it (credentials, identity) and lists the
 * orphaned keys of its account and environments. It is undefined when the connection no longer exists.
 */
export async function observeConnection(
  id: ConnectionId,
  deps: ConnectionObserveDeps,
): Promise<ConnectionObservation | undefined> {
  const { kind, name, namespace } = id;
  const raw =
    kind === 'RancherConnection' ? deps.connections.get(name, namespace) : deps.clusterConnections.get(name);
  if (raw === undefined || typeof raw !== 'object' || raw === null) return undefined;
  const meta = ObjectMetaSchema.safeParse((raw as { metadata?: unknown }).metadata);
  if (!meta.success) return undefined;
  const current = ConnectionStatusSchema.safeParse((raw as { status?: unknown }).status ?? {});
  const status = current.success ? current.data : {};
  const resolved = await deps.resolver.resolve(id, { anyNamespace: true });
  const specSchema =
    kind === 'RancherConnection' ? RancherConnectionSpecSchema : ClusterRancherConnectionSpecSchema;
  const spec = specSchema.safeParse((raw as { spec?: unknown }).spec);
  const deletesOrphans = spec.success && spec.data.orphanPolicy === 'Delete';
  let found: OrphanKey[] | undefined;
  if (resolved.client) {
    // Environments reported last time are listed again, so an orphan of an ApiKey gone since stays visible.
    const envs = (status.orphans?.keys ?? [])
      .map((k) => k.environment)
      .filter((e): e is string => e !== undefined);
    const scope = {
      apiKeys: deps.apiKeys.list(),
      watchNamespaces: deps.watchNamespaces,
      ...(deps.allApiKeyUids ? { allApiKeyUids: deps.allApiKeyUids } : {}),
    };
    found = await findOrphans(resolved.client, id, scope, envs, deletesOrphans);
  }
  return {
    id,
    now: formatTimestamp(deps.now()),
    uid: meta.data.uid,
    generation: meta.data.generation,
    status,
    deletesOrphans,
    resolved,
    found,
  };
}
