import type { KubernetesObject } from '@kubernetes/client-node';
import { INVENTORY_LIST_LIMITS, type RancherApiKey, type RancherClient } from '../../rancher/index.ts';
import { isLeavingState, retireStep } from '../apikey/plan/steps.ts';
import { ownerFromDescription, uidFromDescription } from '../marker.ts';

/** OrphanKey is a Rancher key carrying this operator's marker whose ApiKey no longer exists. */
export interface OrphanKey {
  key: RancherApiKey;
  apiKey: string;
  environment?: string;
}

/** OrphanScope says which ApiKeys this operator instance answers for (its watch scope). */
export interface OrphanScope {
  apiKeys: readonly KubernetesObject[];
  watchNamespaces: readonly string[];
  /**
   * Reads now the uids of every ApiKey in `namespaces` (empty: the watch namespaces), whatever its labels: set
   * when this instance selects ApiKeys by label (a shard), whose cache then lacks the other shards' ApiKeys. Read
   * only when a key's marker names an ApiKey the cache does not hold, and after every Rancher list, so that any
   * ApiKey whose key a list showed (an ApiKey exists before its key) is in it.
   */
  allApiKeyUids?: (namespaces: readonly string[]) => Promise<ReadonlySet<string>>;
}

function refersTo(o: KubernetesObject, kind: string, name: string, ns: string): boolean {
  const ref = (o as { spec?: { connectionRef?: { kind?: string; name?: string } } }).spec?.connectionRef;
  const sameNs = kind === 'ClusterRancherConnection' || o.metadata?.namespace === ns;
  return (ref?.kind ?? 'RancherConnection') === kind && ref?.name === name && sameNs;
}

/**
 * findOrphans lists the connection's keys that carry the ownership marker (account scope and every
 * environment its ApiKeys use) and returns those whose ApiKey uid is not live. Keys named after
 * namespaces outside this instance's watch scope belong to another shard and are left alone, and so are keys
 * whose ApiKey exists but is another shard's (scope.allApiKeyUids).
 */
export async function findOrphans(
  client: RancherClient,
  conn: { kind: string; name: string; namespace: string },
  scope: OrphanScope,
  extraEnvironments: readonly string[],
  includeRemoved = false,
): Promise<OrphanKey[]> {
  const live = new Set(scope.apiKeys.map((k) => k.metadata?.uid).filter((u): u is string => u !== undefined));
  const users = scope.apiKeys.filter((k) => refersTo(k, conn.kind, conn.name, conn.namespace));
  const envs = new Set<string>(extraEnvironments);
  for (const k of users) {
    const env = (k as { spec?: { environment?: string } }).spec?.environment;
    if (env) envs.add(env);
  }
  // Removed keys cannot authenticate and Rancher purges them by itself: they are listed only when the
  // caller is going to purge them (orphanPolicy Delete).
  const filter: Record<string, string> = { description_like: '%apikey-uid:%' };
  if (includeRemoved) filter._removed = 'true';
  const scopes: (string | undefined)[] = [undefined, ...[...envs].sort()];
  const out: (OrphanKey & { uid: string })[] = [];
  // An environment URL lists the same environment for the account scope: each key is reported once.
  const seen = new Set<string>();
  for (const environment of scopes) {
    // The inventory spans the whole connection: it gets the large list limits (lookups keep the small ones)
    // and holds only marked keys, so a server that ignores the filter costs little memory.
    const options = {
      ...INVENTORY_LIST_LIMITS,
      keep: (k: RancherApiKey) => !!uidFromDescription(k.description),
    };
    for (const key of await client.listKeys({ environment }, filter, options)) {
      const uid = uidFromDescription(key.description);
      const owner = ownerFromDescription(key.description);
      if (!uid || !owner || live.has(uid) || seen.has(key.id)) continue;
      seen.add(key.id);
      // A purge (orphanPolicy Delete) still has work on a removed key; a report has none.
      if (includeRemoved ? key.state === 'purged' : isLeavingState(key.state)) continue;
      const ns = owner.split('/')[0] ?? '';
      if (scope.watchNamespaces.length > 0 && !scope.watchNamespaces.includes(ns)) continue;
      if (conn.kind === 'RancherConnection' && ns !== conn.namespace) continue;
      out.push(environment ? { key, apiKey: owner, environment, uid } : { key, apiKey: owner, uid });
    }
  }
  // Another shard's ApiKey is never an orphan (its shard may be about to act on that very key).
  const elsewhere =
    out.length > 0 && scope.allApiKeyUids
      ? await scope.allApiKeyUids(conn.kind === 'RancherConnection' ? [conn.namespace] : [])
      : undefined;
  return out.filter((o) => !elsewhere?.has(o.uid)).map(({ uid: _, ...o }) => o);
}

/** isLiveOrphan reports an orphan that can still authenticate or be activated (the ones worth reporting). */
export function isLiveOrphan(o: OrphanKey): boolean {
  return !isLeavingState(o.key.state);
}

/** cleanOrphans moves every orphan one step towards purged; returns how many still need work. */
export async function cleanOrphans(client: RancherClient, orphans: readonly OrphanKey[]): Promise<number> {
  let remaining = 0;
  for (const o of orphans) {
    const step = retireStep(
      {
        id: o.key.id,
        publicValue: o.key.publicValue,
        state: o.key.state,
        transitioning: o.key.transitioning,
        name: o.key.name,
        description: o.key.description,
        accountId: o.key.accountId,
      },
      false,
    );
    if (step === 'done') continue;
    remaining++;
    if (step === 'wait') continue;
    if (step.type === 'DeactivateKey') await client.deactivateKey(o.key);
    else if (step.type === 'RemoveKey') {
      // Removed keys drop out of lists, so the purge follows in the same pass while the key is in hand.
      const removing = await client.removeKey(o.key);
      const removed = await client.waitForTransition(removing, { timeoutMs: 3_000, intervalMs: 50 });
      if (removed?.state === 'removed') await client.purgeKey(removed);
    } else if (step.type === 'PurgeKey') await client.purgeKey(o.key);
  }
  return remaining;
}
