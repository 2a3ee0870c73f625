import type { Config } from '../config/config.ts';
import { createClaimantLeases, shardAnnotations } from '../controller/apikey/shard/claimant-leases.ts';
import { createShardGate, type ShardGate } from '../controller/apikey/shard/gate.ts';
import type { ConnectionId } from '../controller/connection/types.ts';
import type { ObjectKey } from '../controller/object-key.ts';
import type { KubeApis } from '../kube/client.ts';
import { createEventRecorder } from '../kube/events.ts';
import { leaseApiFrom } from '../kube/leader-election.ts';
import { createShardClaims } from '../kube/shard-claims.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createShardMetrics } from '../observability/shard-metrics.ts';

/** Sharding is this process's part in a sharded install (SHARD_NAME set). */
export interface Sharding {
  gate: ShardGate;
  /** The annotations this shard's Lease carries, so that other shards know what it watches. */
  leaseAnnotations: Record<string, string>;
  /**
   * releaseStale runs once this shard leads: ApiKeys it claims but no longer selects (its selector changed while
   * it was down) are queued, so that their pass releases them. A failed list is retried after a lease duration.
   */
  releaseStale(enqueue: (key: ObjectKey) => void, cached: (key: ObjectKey) => boolean): void;
}

/**
 * servesConnection says whether this instance reconciles a connection (RECONCILE_CONNECTIONS): in a sharded
 * install a ClusterRancherConnection is checked and inventoried by the one shard set to `all`, so its status has
 * one writer; ApiKeys resolve and use every connection whatever the setting.
 */
export function servesConnection(setting: Config['reconcileConnections'], id: ConnectionId): boolean {
  if (setting === 'all') return true;
  return setting === 'namespaced' && id.kind === 'RancherConnection';
}

/**
 * allApiKeyUids returns, for an instance that selects ApiKeys by label (a shard, with or without SHARD_NAME), a
 * reader of every ApiKey uid in the given namespaces (empty: its watch namespaces), so that its orphan inventory
 * never counts another shard's key; undefined without a label selector (the cache then holds every ApiKey). It
 * reads the apiserver at each call: a list older than the Rancher key list could miss a new ApiKey's key.
 */
export function allApiKeyUids(
  config: Config,
  apis: KubeApis,
): ((namespaces: readonly string[]) => Promise<ReadonlySet<string>>) | undefined {
  if (config.labelSelector === '') return undefined;
  const claims = createShardClaims(apis);
  return (namespaces) => claims.uids(namespaces.length > 0 ? namespaces : config.namespaces);
}

/** createSharding wires the shard gate for `config.shardName`, or returns undefined when unsharded. */
export function createSharding(o: {
  config: Config;
  apis: KubeApis;
  apiKeys: { get(name: string, namespace?: string): unknown };
  identity: string;
  logger: Logger;
  metrics: Metrics;
  forget(key: ObjectKey, uid: string | undefined): void;
}): Sharding | undefined {
  const { config, apis, logger } = o;
  const shard = config.shardName;
  if (shard === '') return undefined;
  const claims = createShardClaims(apis);
  const leases = leaseApiFrom(apis.coordination);
  const gate = createShardGate({
    shard,
    claims,
    leases: createClaimantLeases({
      read: (name) => leases.read(config.leaderElectionNamespace, name),
      now: Date.now,
      cacheMs: config.retryPeriodMs,
    }),
    apiKeys: o.apiKeys,
    events: createEventRecorder(apis, {
      instance: o.identity,
      fallbackNamespace: config.operatorNamespace,
      onError: (err) => logger.warn({ err }, 'cannot record Event'),
    }),
    logger,
    report: createShardMetrics(o.metrics.registry, shard),
    recheckMs: config.leaseDurationMs + config.retryPeriodMs,
    forget: o.forget,
  });
  return {
    gate,
    leaseAnnotations: shardAnnotations({
      labelSelector: config.labelSelector,
      namespaces: config.namespaces,
    }),
    releaseStale(enqueue, cached) {
      const attempt = async () => {
        try {
          const stale = (await claims.claimedBy(shard, config.namespaces)).filter((c) => !cached(c));
          gate.adopt(stale);
          for (const key of stale) enqueue(key);
          if (stale.length > 0)
            logger.info(
              { shard, count: stale.length },
              'releasing ApiKeys this shard claimed but no longer selects',
            );
        } catch (err) {
          logger.warn({ err, shard }, 'cannot list the ApiKeys this shard claims; trying again');
          setTimeout(() => void attempt(), config.leaseDurationMs).unref();
        }
      };
      void attempt();
    },
  };
}
