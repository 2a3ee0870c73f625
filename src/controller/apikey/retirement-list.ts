import { FINALIZER } from '../../api/names.ts';
import { INVENTORY_LIST_LIMITS, MAX_PAGE_SIZE, type RancherApiKey } from '../../rancher/index.ts';
import { ANY_MARKER_FILTER, uidFromDescription } from '../marker.ts';
import { type InventoryScope, perScope } from './key-inventory.ts';

/**
 * RetirementLists answer a deletion's "which keys carry this ApiKey's marker" from one paged list per
 * connection scope, shared by every ApiKey deleting there, instead of a filtered list per ApiKey: Rancher
 * (Cattle's MySQL as the emulator) scans the whole account for each `description_like` filter, so 10,000
 * deletions cost 10,000 scans of 10,000 keys one way and a few dozen pages the other.
 *
 * A shared list answers for an ApiKey only when it proves as much as that ApiKey's own marker list would:
 * - it began after this process saw the ApiKey deleting (the ApiKey was deleting in the cache when the list
 *   began), so no pass of this process creates a key for it afterwards;
 * - it began after every create this process sent for the ApiKey had ended (a create in flight could land
 *   after the list read its page: see `creating`);
 * - it is at most LIST_MAX_AGE_MS old, and has not answered for this ApiKey before: once a pass has acted on
 *   the keys a list showed, that list's states are stale for it, and its next pass uses its own marker list.
 * Otherwise (or when the scope's list cannot be read) `marked` returns undefined and the caller lists by
 * marker as before, so a huge or hostile Rancher costs only its own connection's deletions.
 */
export interface RetirementLists {
  /** marked returns the keys (removed ones included, purged ones not) carrying `uid`'s marker, or undefined. */
  marked(scope: InventoryScope, uid: string): Promise<RancherApiKey[] | undefined>;
  /** creating runs a Rancher create for `uid`; no list that began before it ended answers for `uid`. */
  creating<T>(uid: string, create: () => Promise<T>): Promise<T>;
}

export interface RetirementListDeps {
  /** deletingUids lists the uids of the ApiKeys the cache shows deleting (with this operator's finalizer). */
  deletingUids(): Iterable<string>;
  /** The interval after which a scope whose list could not be read is tried again. */
  retryMs: number;
  now(): number;
}

/** How long a shared list answers for deletions that began before it (key states may change out of band). */
export const LIST_MAX_AGE_MS = 15_000;

interface SharedList {
  startedAt: number;
  /** The uids deleting when the list began: only they may be answered from it. */
  wanted: Set<string>;
  /** The listed keys of each wanted uid; an entry is removed once it answered. */
  keys: Map<string, RancherApiKey[]>;
  /** Settles when the list was read (or could not be: `failed`). */
  done: Promise<void>;
  reading: boolean;
  failed: boolean;
}

interface ScopeLists {
  latest: SharedList | undefined;
  failedAt: number;
}

/** createRetirementLists keeps one shared list per connection scope (see RetirementLists). */
export function createRetirementLists(deps: RetirementListDeps): RetirementLists {
  // uid → when the last create this process sent for it ended (+Infinity while one runs).
  const created = new Map<string, number>();
  // uids a list answered for: their later passes list by marker (they act on what the list showed).
  const answered = new Set<string>();

  const scopeOf = perScope<ScopeLists>(() => ({ latest: undefined, failedAt: Number.NEGATIVE_INFINITY }));

  /** answers says whether `list` may answer for `uid` (read or still reading). */
  function answers(list: SharedList | undefined, uid: string): boolean {
    if (!list || list.failed || !list.wanted.has(uid) || answered.has(uid)) return false;
    if (deps.now() - list.startedAt > LIST_MAX_AGE_MS) return false;
    return list.startedAt > (created.get(uid) ?? Number.NEGATIVE_INFINITY);
  }

  /** prune drops what no list can need: creates that ended before any list that still answers, gone ApiKeys. */
  function prune(deleting: Set<string>): void {
    const oldest = deps.now() - LIST_MAX_AGE_MS;
    for (const [uid, at] of created) if (at < oldest) created.delete(uid);
    for (const uid of answered) if (!deleting.has(uid)) answered.delete(uid);
  }

  function begin(scope: InventoryScope, lists: ScopeLists): SharedList {
    const wanted = new Set(deps.deletingUids());
    prune(wanted);
    const list: SharedList = {
      startedAt: deps.now(),
      wanted,
      keys: new Map(),
      done: Promise.resolve(),
      reading: true,
      failed: false,
    };
    const keep = (k: RancherApiKey): boolean => {
      const uid = uidFromDescription(k.description);
      if (uid === undefined || !wanted.has(uid) || k.state === 'purged') return false;
      const own = list.keys.get(uid);
      if (own) own.push(k);
      else list.keys.set(uid, [k]);
      return false;
    };
    const options = { ...INVENTORY_LIST_LIMITS, pageSize: MAX_PAGE_SIZE, keep };
    const filters = { ...ANY_MARKER_FILTER, _removed: 'true' };
    list.done = scope.client
      .listKeys({ environment: scope.environment }, filters, options)
      .then(
        () => undefined,
        () => {
          list.failed = true;
          list.keys.clear();
          lists.failedAt = deps.now();
        },
      )
      .finally(() => {
        list.reading = false;
      });
    lists.latest = list;
    return list;
  }

  function take(list: SharedList, uid: string): RancherApiKey[] | undefined {
    if (list.failed || !list.wanted.has(uid)) return undefined;
    const keys = list.keys.get(uid) ?? [];
    list.keys.delete(uid);
    list.wanted.delete(uid);
    answered.add(uid);
    return keys;
  }

  return {
    async marked(scope, uid) {
      if (answered.has(uid)) return undefined;
      const lists = scopeOf(scope);
      // One list at a time per scope: a deletion the list in progress cannot answer waits for it to end, then
      // starts (or joins) the next one.
      for (let turn = 0; turn < 3; turn++) {
        if (deps.now() - lists.failedAt < deps.retryMs) return undefined;
        const latest = lists.latest;
        if (latest && answers(latest, uid)) {
          await latest.done;
          return take(latest, uid);
        }
        if (latest?.reading) await latest.done;
        else if (!begin(scope, lists).wanted.has(uid)) return undefined;
      }
      return undefined;
    },
    async creating(uid, create) {
      created.set(uid, Number.POSITIVE_INFINITY);
      try {
        return await create();
      } finally {
        created.set(uid, deps.now());
      }
    },
  };
}

/** deletingUidsOf picks the ApiKeys (cached objects) that are deleting and still carry this operator's finalizer. */
export function* deletingUidsOf(objects: Iterable<unknown>): Iterable<string> {
  for (const o of objects) {
    const meta = (o as { metadata?: { uid?: string; deletionTimestamp?: unknown; finalizers?: string[] } })
      .metadata;
    if (meta?.uid && meta.deletionTimestamp !== undefined && meta.finalizers?.includes(FINALIZER))
      yield meta.uid;
  }
}
