import { ANNOTATIONS } from '../../../api/names.ts';
import { parseLabelSelector } from '../../../kube/label-selector.ts';
import type { Lease } from '../../../kube/leader-election.ts';
import type { ClaimantView } from './decide.ts';

/** ClaimantLeases answers, for a shard name, what its Lease says and whether it is held. */
export interface ClaimantLeases {
  view(shard: string): Promise<ClaimantView | undefined>;
}

interface Seen {
  lease: Lease | undefined;
  readAt: number;
  /** When this process saw the Lease's resourceVersion change last (or first saw it). */
  changedAt: number;
}

/** shardAnnotations are the annotations a shard's Lease carries: what it watches. */
export function shardAnnotations(scope: { labelSelector: string; namespaces: readonly string[] }) {
  return {
    [ANNOTATIONS.shardLabelSelector]: scope.labelSelector,
    [ANNOTATIONS.shardNamespaces]: scope.namespaces.join(','),
  };
}

/**
 * createClaimantLeases reads other shards' Leases (at most once per `cacheMs` each) and judges them as client-go's
 * leader election does, without trusting another machine's clock: a Lease is held while it has a holder and its
 * resourceVersion changed within its leaseDurationSeconds of this process's time. A Lease seen for the first time
 * counts as just renewed, so a dead shard's claims are taken over one lease duration after a shard looks.
 */
export function createClaimantLeases(deps: {
  read(name: string): Promise<Lease | undefined>;
  now(): number;
  cacheMs: number;
}): ClaimantLeases {
  const seen = new Map<string, Seen>();
  const refresh = async (shard: string): Promise<Seen> => {
    const now = deps.now();
    const last = seen.get(shard);
    if (last && now - last.readAt < deps.cacheMs) return last;
    const lease = await deps.read(shard);
    const changed = !last || last.lease?.resourceVersion !== lease?.resourceVersion;
    const next = { lease, readAt: now, changedAt: changed || !last ? now : last.changedAt };
    // Shards are few; a name that is no shard at all is forgotten with the rest if the map ever grows.
    if (seen.size > 1000) seen.clear();
    seen.set(shard, next);
    return next;
  };
  return {
    async view(shard) {
      const { lease, changedAt } = await refresh(shard);
      if (!lease) return undefined;
      const held =
        lease.record.holderIdentity !== '' &&
        deps.now() - changedAt < lease.record.leaseDurationSeconds * 1000;
      const annotations = lease.annotations ?? {};
      const selectorText = annotations[ANNOTATIONS.shardLabelSelector];
      const namespaces = (annotations[ANNOTATIONS.shardNamespaces] ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');
      return {
        live: held,
        namespaces,
        selector: selectorText === undefined ? undefined : parseLabelSelector(selectorText),
      };
    },
  };
}
