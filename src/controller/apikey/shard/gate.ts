import { API_VERSION } from '../../../api/names.ts';
import type { EventRecorder } from '../../../kube/events.ts';
import type { ClaimView, ShardClaims } from '../../../kube/shard-claims.ts';
import type { Logger } from '../../../observability/logger.ts';
import type { ObjectKey } from '../../object-key.ts';
import type { ReconcileResult } from '../../result.ts';
import type { ClaimantLeases } from './claimant-leases.ts';
import { decideClaim } from './decide.ts';

/** ShardEvents are told of what a shard did with claims (metrics). */
export interface ShardEvents {
  claimed(action: 'claim' | 'take_over' | 'release'): void;
  /** overlaps is the number of ApiKeys this shard now sees claimed by another live shard that matches them too. */
  overlaps(count: number): void;
}

/** ShardGateDeps are what the gate in front of every ApiKey pass needs. */
export interface ShardGateDeps {
  shard: string;
  claims: ShardClaims;
  leases: ClaimantLeases;
  apiKeys: { get(name: string, namespace?: string): unknown };
  events: EventRecorder;
  logger: Logger;
  report: ShardEvents;
  /** How long a waiting shard lets pass before it looks at a foreign claim again (a lease duration and a bit). */
  recheckMs: number;
  /**
   * forget drops what this process remembers of an ApiKey it let go (last writes, drift schedule, key metrics): it
   * may come back changed by another shard. `uid` is known when the ApiKey still exists.
   */
  forget(key: ObjectKey, uid: string | undefined): void;
}

/** ShardGate decides, before any write, whether this shard may run a pass for an ApiKey. */
export interface ShardGate {
  /** admit returns undefined when the pass may run, or the result that ends it here (claim, release, wait). */
  admit(key: ObjectKey): Promise<ReconcileResult | undefined>;
  /** adopt marks ApiKeys this shard claims but no longer watches, so their next pass releases them. */
  adopt(keys: readonly ObjectKey[]): void;
  /** finished forgets an ApiKey whose finalizer this shard removed: it is going away, there is nothing to release. */
  finished(key: ObjectKey): void;
}

const DONE: ReconcileResult = { kind: 'done' };

function shardOf(cached: unknown): string {
  if (typeof cached !== 'object' || cached === null || !('status' in cached)) return '';
  const status = cached.status;
  if (typeof status !== 'object' || status === null || !('shard' in status)) return '';
  return typeof status.shard === 'string' ? status.shard : '';
}

function versionOf(cached: unknown): string | undefined {
  if (typeof cached !== 'object' || cached === null || !('metadata' in cached)) return undefined;
  const meta = cached.metadata;
  if (typeof meta !== 'object' || meta === null || !('resourceVersion' in meta)) return undefined;
  return typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
}

/**
 * createShardGate keeps two shards from acting on one ApiKey. A pass runs only while status.shard names this
 * shard. An unclaimed ApiKey (or one whose claimant cannot act any more) is claimed with a resourceVersion-
 * guarded status patch, and the pass runs on the watch event of that write. An ApiKey that left this shard's
 * cache (relabelled, or the selector changed) is released once its current pass is over (the queue runs one
 * pass per key at a time), so that the next shard can claim it. Overlapping claims are reported, never written.
 */
export function createShardGate(deps: ShardGateDeps): ShardGate {
  const { shard: me, logger } = deps;
  const held = new Set<string>();
  const overlapping = new Map<string, string>();
  const setOverlap = (id: string, from: string | undefined) => {
    const before = overlapping.size;
    if (from === undefined) overlapping.delete(id);
    else overlapping.set(id, from);
    if (overlapping.size !== before) deps.report.overlaps(overlapping.size);
  };

  async function release(key: ObjectKey, id: string): Promise<ReconcileResult> {
    const live = await deps.claims.read(key.namespace, key.name);
    if (live?.shard === me && !(await deps.claims.set(key.namespace, key.name, '', live.resourceVersion))) {
      // It changed meanwhile: read it again on the next try.
      return { kind: 'retry', error: new Error(`ApiKey ${id} changed while shard ${me} released it`) };
    }
    held.delete(id);
    setOverlap(id, undefined);
    deps.forget(key, live?.uid);
    if (live?.shard === me) {
      deps.report.claimed('release');
      logger.info(
        { apiKey: id, shard: me },
        'ApiKey left this shard; released it for the shard that matches it',
      );
    }
    return DONE;
  }

  async function claim(key: ObjectKey, id: string, resourceVersion: string, action: 'claim' | 'take_over') {
    if (!(await deps.claims.set(key.namespace, key.name, me, resourceVersion))) return DONE;
    held.add(id);
    deps.report.claimed(action);
    // The pass runs when the watch brings the claimed version (the finalizer and status writes need it).
    return DONE;
  }

  async function reportOverlap(id: string, live: ClaimView, from: string): Promise<void> {
    if (overlapping.get(id) === from) return;
    setOverlap(id, from);
    const message =
      `shards ${JSON.stringify(from)} and ${JSON.stringify(me)} both select this ApiKey; ${JSON.stringify(from)} ` +
      `claimed it and holds its Lease, so only it acts. Make the shards' selectors disjoint.`;
    logger.warn(
      { apiKey: id, shard: me, claimedBy: from },
      'overlapping shards: ApiKey claimed by another live shard',
    );
    const target = {
      apiVersion: API_VERSION,
      kind: 'ApiKey',
      name: live.name,
      namespace: live.namespace,
      uid: live.uid,
    };
    await deps.events.record(target, 'Warning', 'ShardOverlap', message, 'Claim');
  }

  return {
    adopt(keys) {
      for (const k of keys) held.add(`${k.namespace}/${k.name}`);
    },
    finished(key) {
      const id = `${key.namespace}/${key.name}`;
      held.delete(id);
      setOverlap(id, undefined);
    },
    async admit(key) {
      const id = `${key.namespace}/${key.name}`;
      const cached = deps.apiKeys.get(key.name, key.namespace);
      if (cached === undefined) return held.has(id) ? release(key, id) : undefined;
      const cachedClaim = shardOf(cached);
      if (cachedClaim === me) {
        held.add(id);
        setOverlap(id, undefined);
        return undefined;
      }
      // Unclaimed as cached: claim that version (a stale one is a 409, and the newer version's event comes).
      const cachedVersion = versionOf(cached);
      if (cachedClaim === '' && cachedVersion !== undefined) {
        setOverlap(id, undefined);
        return claim(key, id, cachedVersion, 'claim');
      }
      // Not this shard's yet: decide on the live object (the cache may lag, and keeps no labels).
      const live = await deps.claims.read(key.namespace, key.name);
      if (!live) return DONE;
      const lease = live.shard && live.shard !== me ? await deps.leases.view(live.shard) : undefined;
      const decision = decideClaim({ me, claimant: live.shard, lease, apiKey: live });
      switch (decision.kind) {
        case 'act':
          // Claimed here, and the cache has not caught up: that version's watch event runs the pass.
          held.add(id);
          return DONE;
        case 'claim':
          setOverlap(id, undefined);
          return claim(key, id, live.resourceVersion, 'claim');
        case 'takeOver':
          setOverlap(id, undefined);
          logger.info(
            { apiKey: id, shard: me, from: decision.from, why: decision.why },
            'taking over an ApiKey whose shard can no longer act on it',
          );
          return claim(key, id, live.resourceVersion, 'take_over');
        case 'wait':
          setOverlap(id, undefined);
          logger.debug(
            { apiKey: id, shard: me, claimedBy: decision.from },
            'waiting for the shard that claimed the ApiKey to release it',
          );
          return { kind: 'done', requeueAfterMs: deps.recheckMs };
        case 'overlap':
          await reportOverlap(id, live, decision.from);
          return { kind: 'done', requeueAfterMs: deps.recheckMs };
      }
    },
  };
}
