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

/** MAX_REMEMBERED bounds the memory: past it the set starts over (the cost is one more failed create each). */
const MAX_REMEMBERED = 10_000;

/** createUnreadSecrets remembers, per ApiKey uid, that the next pass must read the Secret live. */
export function createUnreadSecrets(max = MAX_REMEMBERED): UnreadSecrets {
  const mustRead = new Set<string>();
  return {
    mayTrustCache(apiKey, canSupplyValues) {
      const uid = apiKey.metadata.uid;
      if (mustRead.delete(uid)) return false;
      // Never reported on (a shard's claim aside): no pass of this ApiKey has written anything yet. Once a pass
      // reported a failure (a conflicting Secret included), every later pass reads the Secret live.
      const unreported = Object.keys(apiKey.status ?? {}).every((field) => field === 'shard');
      const brandNew = !apiKey.metadata.finalizers?.includes(FINALIZER) && unreported;
      return canSupplyValues && brandNew && apiKey.spec.mode !== 'Plan' && !adoptionPending(apiKey);
    },
    createConflicted(uid) {
      if (mustRead.size >= max) mustRead.clear();
      mustRead.add(uid);
    },
  };
}
