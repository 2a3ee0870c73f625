import type { LabelSelector } from '../../../kube/label-selector.ts';

/** ClaimantView is what a shard knows of another shard from that shard's Lease. */
export interface ClaimantView {
  /** live: the Lease has a holder that renewed it within its duration, as seen from here. */
  live: boolean;
  /** The namespaces the claimant watches (empty: all). */
  namespaces: readonly string[];
  /** The claimant's ApiKey selector; undefined when its Lease does not say (or says it in a form not understood). */
  selector: LabelSelector | undefined;
}

/**
 * ClaimDecision is what a shard does with an ApiKey before any write: act (it holds the claim), claim it
 * (unclaimed), take it over (the claimant cannot act on it any more), wait (the claimant lets go after its
 * current pass: a handover), or report an overlap (the claimant is live and its selector matches as well).
 */
export type ClaimDecision =
  | { kind: 'act' }
  | { kind: 'claim' }
  | { kind: 'takeOver'; from: string; why: 'leaseNotHeld' | 'outsideNamespaces' }
  | { kind: 'wait'; from: string }
  | { kind: 'overlap'; from: string };

/** ClaimInput is everything decideClaim looks at, read live (the claim and labels) and from the claimant's Lease. */
export interface ClaimInput {
  me: string;
  /** status.shard of the ApiKey ('' when unclaimed). */
  claimant: string;
  /** The claimant's Lease; undefined when it does not exist. */
  lease: ClaimantView | undefined;
  apiKey: { namespace: string; labels: Readonly<Record<string, string>> };
}

/**
 * decideClaim is the pure rule that keeps two shards from acting on one ApiKey. A claim stands while the
 * claimant's Lease is held; a claimant that does not watch the ApiKey's namespace never had it in its cache
 * (namespaces are fixed for a process), so its claim is stale; a claimant whose selector no longer matches is
 * finishing its pass and then clears the claim, so the newcomer waits; a claimant whose selector matches too is
 * an overlap, reported and never written over. An unknown selector counts as matching (never guess in favour of
 * writing).
 */
export function decideClaim(input: ClaimInput): ClaimDecision {
  const { me, claimant, lease, apiKey } = input;
  if (claimant === '') return { kind: 'claim' };
  if (claimant === me) return { kind: 'act' };
  if (!lease?.live) return { kind: 'takeOver', from: claimant, why: 'leaseNotHeld' };
  if (lease.namespaces.length > 0 && !lease.namespaces.includes(apiKey.namespace))
    return { kind: 'takeOver', from: claimant, why: 'outsideNamespaces' };
  if (lease.selector && !lease.selector.matches(apiKey.labels)) return { kind: 'wait', from: claimant };
  return { kind: 'overlap', from: claimant };
}
