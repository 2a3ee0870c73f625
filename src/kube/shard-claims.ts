import { z } from 'zod';
import { GROUP, VERSION } from '../api/names.ts';
import type { KubeApis } from './client.ts';
import { isNotFound, KubeError, kubeStatusCode } from './errors.ts';

/** ClaimView is what a shard reads of an ApiKey to decide a claim: never its spec or the rest of its status. */
export interface ClaimView {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  labels: Record<string, string>;
  /** status.shard: the shard that claimed it, '' when none did. */
  shard: string;
}

/** ShardClaims reads and writes ApiKey claims (status.shard); every write is guarded by resourceVersion. */
export interface ShardClaims {
  /** read returns the live ApiKey's claim, or undefined when it does not exist. */
  read(namespace: string, name: string): Promise<ClaimView | undefined>;
  /** set writes status.shard (`''` clears it) if the ApiKey is still at `resourceVersion`; false on a conflict. */
  set(namespace: string, name: string, shard: string, resourceVersion: string): Promise<boolean>;
  /** claimedBy lists, page by page, the ApiKeys of `namespaces` (empty: all) that `shard` claims. */
  claimedBy(shard: string, namespaces: readonly string[]): Promise<ClaimView[]>;
  /** uids lists, page by page, the uids of every ApiKey in `namespaces` (empty: all), whatever its labels. */
  uids(namespaces: readonly string[]): Promise<Set<string>>;
}

const ClaimSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    resourceVersion: z.string(),
    labels: z.record(z.string(), z.string()).nullish(),
  }),
  status: z.object({ shard: z.string().nullish() }).nullish(),
});

const ListSchema = z.object({
  items: z.array(z.unknown()),
  metadata: z.object({ continue: z.string().nullish() }).nullish(),
});

function claimOf(obj: unknown): ClaimView {
  const { metadata: m, status } = ClaimSchema.parse(obj);
  return {
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    labels: m.labels ?? {},
    shard: status?.shard ?? '',
  };
}

/**
 * ClaimNotStoredError: the apiserver accepted a claim but did not keep status.shard, because the installed ApiKey CRD
 * predates it (unknown fields are pruned). Claiming again would loop; the CRDs must be upgraded first.
 */
export class ClaimNotStoredError extends Error {
  readonly code = 'ClaimNotStored';
  constructor(what: string) {
    super(
      `cannot claim ${what}: the ApiKey CRD does not keep status.shard; apply this version's CRDs first (kubectl apply --server-side -f crds/)`,
    );
    this.name = 'ClaimNotStoredError';
  }
}

/** LIST_PAGE bounds how many ApiKeys a claim sweep holds at once. */
const LIST_PAGE = 500;

/** createShardClaims implements ShardClaims with the CustomObjects API (merge patches on the status subresource). */
export function createShardClaims(apis: KubeApis): ShardClaims {
  const base = { group: GROUP, version: VERSION, plural: 'apikeys' };
  // Page by page, so that a list of every ApiKey never sits in memory whole.
  const eachApiKey = async (namespaces: readonly string[], visit: (claim: ClaimView) => void) => {
    for (const namespace of namespaces.length > 0 ? namespaces : [undefined]) {
      let next: string | undefined;
      do {
        const page = { ...base, limit: LIST_PAGE, _continue: next };
        let raw: unknown;
        try {
          raw = namespace
            ? await apis.custom.listNamespacedCustomObject({ ...page, namespace }, apis.options)
            : await apis.custom.listClusterCustomObject(page, apis.options);
        } catch (err) {
          throw new KubeError(`list ApiKeys${namespace ? ` in ${namespace}` : ''}`, err);
        }
        const list = ListSchema.parse(raw);
        for (const item of list.items) visit(claimOf(item));
        next = list.metadata?.continue || undefined;
      } while (next);
    }
  };
  return {
    async read(namespace, name) {
      try {
        return claimOf(
          await apis.custom.getNamespacedCustomObject({ ...base, namespace, name }, apis.options),
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw new KubeError(`read ApiKey ${namespace}/${name}`, err);
      }
    },
    async set(namespace, name, shard, resourceVersion) {
      const body = { metadata: { resourceVersion }, status: { shard: shard === '' ? null : shard } };
      let stored: unknown;
      try {
        stored = await apis.custom.patchNamespacedCustomObjectStatus(
          { ...base, namespace, name, body },
          apis.mergePatch,
        );
      } catch (err) {
        if (kubeStatusCode(err) === 409 || isNotFound(err)) return false;
        throw new KubeError(`claim ApiKey ${namespace}/${name} for shard ${shard || '(none)'}`, err);
      }
      if (shard !== '' && claimOf(stored).shard !== shard)
        throw new ClaimNotStoredError(`ApiKey ${namespace}/${name}`);
      return true;
    },
    async claimedBy(shard, namespaces) {
      const out: ClaimView[] = [];
      await eachApiKey(namespaces, (claim) => {
        if (claim.shard === shard) out.push(claim);
      });
      return out;
    },
    async uids(namespaces) {
      const out = new Set<string>();
      await eachApiKey(namespaces, (claim) => out.add(claim.uid));
      return out;
    },
  };
}
