import type { ApiKey } from '../../api/apikey.ts';
import { FINALIZER } from '../../api/names.ts';
import { adoptionPending } from './adopt/view.ts';

/**
 * UnreadSecrets decides when a pass may trust the Secret cache's "absent" without reading the Secret live.
 *
 * The cache holds only Secrets the operator labelled, so a Secret someone else made under the same name is
 * invisible to it; that is why a pass reads the Secret live. A brand-new ApiKey whose credentials supply the
 * values is the exception (one read per new key, always a 404 in a burst): its pair is written to a NEW Secret
 * (create, never replace) before anything reaches Rancher, so a Secret someone else holds under that name makes
 * the create fail with 409 and nothing else happens. The pass then fails, the ApiKey is remembered here, and
 * its next pass reads the Secret live and reports SecretConflict as before.
 */
export interface UnreadSecrets {
  /** mayTrustCache says whether this pass may skip the live read of an ApiKey's Secret the cache does not hold. */
  mayTrustCache(apiKey: ApiKey, canSupplyValues: boolean): boolean;
  /** createConflicted records that the create of a Secret the pass did not read met an existing one. */
  createConflicted(uid: string): void;
}

/**
 * neverWrittenTo: the operator never wrote to this ApiKey (no finalizer of ours, no status but a shard's claim).
 * It cannot have keys of a lost create (the finalizer is added before the first Rancher write), nor a Secret of
 * its own yet.
 */
export function neverWrittenTo(apiKey: ApiKey): boolean {
  const claimedOnly = Object.keys(apiKey.status ?? {}).every((field) => field === 'shard');
  return !apiKey.metadata.finalizers?.includes(FINALIZER) && claimedOnly;
}

/** MAX_REMEMBERED bounds the memory: past it the set starts over (the cost is one more failed create each). */
const MAX_REMEMBERED = 10_000;

/** createUnreadSecrets remembers, per ApiKey uid, that the next pass must read the Secret live. */
export function createUnreadSecrets(max = MAX_REMEMBERED): UnreadSecrets {
  const mustRead = new Set<string>();
  return {
    mayTrustCache(apiKey, canSupplyValues) {
      const uid = apiKey.metadata.uid;
      if (mustRead.delete(uid)) return false;
      // Once a pass reported anything (a conflicting Secret included), every later pass reads the Secret live.
      return (
        canSupplyValues && neverWrittenTo(apiKey) && apiKey.spec.mode !== 'Plan' && !adoptionPending(apiKey)
      );
    },
    createConflicted(uid) {
      if (mustRead.size >= max) mustRead.clear();
      mustRead.add(uid);
    },
  };
}
