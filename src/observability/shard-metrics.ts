import { Counter, Gauge, type Registry } from 'prom-client';

/** ShardMetrics count what a shard did with ApiKey claims, labelled with the shard's name. */
export interface ShardMetrics {
  claimed(action: 'claim' | 'take_over' | 'release'): void;
  overlaps(count: number): void;
}

/**
 * createShardMetrics registers `rancher_apikey_operator_shard_info{shard}` (1), the claims counter
 * `…_shard_claims_total{shard,action}` and the gauge `…_shard_overlaps{shard}`: ApiKeys this shard selects
 * that another live shard claimed and selects too (a misconfiguration; 0 when the selectors are disjoint).
 */
export function createShardMetrics(registry: Registry, shard: string): ShardMetrics {
  new Gauge({
    name: 'rancher_apikey_operator_shard_info',
    help: 'The shard this operator process is (SHARD_NAME); absent when unsharded',
    labelNames: ['shard'] as const,
    registers: [registry],
  }).set({ shard }, 1);
  const claims = new Counter({
    name: 'rancher_apikey_operator_shard_claims_total',
    help: 'ApiKey claims this shard wrote: claim (unclaimed), take_over (claimant gone), release (left this shard)',
    labelNames: ['shard', 'action'] as const,
    registers: [registry],
  });
  for (const action of ['claim', 'take_over', 'release'] as const) claims.inc({ shard, action }, 0);
  const overlaps = new Gauge({
    name: 'rancher_apikey_operator_shard_overlaps',
    help: 'ApiKeys this shard selects that another live shard claimed and selects as well',
    labelNames: ['shard'] as const,
    registers: [registry],
  });
  overlaps.set({ shard }, 0);
  return {
    claimed: (action) => claims.inc({ shard, action }),
    overlaps: (count) => overlaps.set({ shard }, count),
  };
}
