import type { z } from 'zod';
import { describeAction, invalidResponse, limitExceeded, RancherError } from './errors.ts';
import { CollectionSchema, type RancherApiKey, RancherApiKeySchema } from './schemas.ts';
import type { HttpResponse, Transport } from './transport.ts';
import type { KeyScope, ListLimits } from './types.ts';
import type { RancherUrls } from './urls.ts';
import { parseWire } from './wire.ts';

/** DEFAULT_PAGE_SIZE is the `limit` of a list page unless the caller asks for another (Cattle allows up to 3000). */
export const DEFAULT_PAGE_SIZE = 1000;
/** MAX_PAGE_SIZE is Cattle's largest page: a connection-wide list asks for it, so 1,000s of keys cost one request. */
export const MAX_PAGE_SIZE = 3000;
const MiB = 1024 * 1024;

/**
 * LOOKUP_LIST_LIMITS bound a filtered lookup that expects a handful of keys (by publicValue, by ownership
 * marker): a server answering thousands of keys to such a filter is broken or hostile.
 */
export const LOOKUP_LIST_LIMITS: Readonly<ListLimits> = {
  maxKeys: 100,
  maxPages: 5,
  maxBytes: 4 * MiB,
  deadlineMs: 30_000,
};

/**
 * INVENTORY_LIST_LIMITS bound a connection-wide inventory (every key carrying the operator's marker):
 * 20,000 keys of up to 2 KiB each (a 1,024-character description included) in 40 MiB, within a minute.
 */
export const INVENTORY_LIST_LIMITS: Readonly<ListLimits> = {
  maxKeys: 20_000,
  maxPages: 40,
  maxBytes: 40 * MiB,
  deadlineMs: 60_000,
};

/** ListRequest is one bounded list: the call name for errors, the scope and Rancher filters. */
export interface ListRequest {
  action: string;
  scope: KeyScope | undefined;
  filters: Record<string, string>;
  limits: ListLimits;
  /** keep selects the keys worth holding; the others count against the limits but are dropped at once. */
  keep?: (key: RancherApiKey) => boolean;
  /** pageSize is the `limit` asked for per page (default DEFAULT_PAGE_SIZE). */
  pageSize?: number;
}

function listTimeout(action: string, deadlineMs: number, cause: unknown): RancherError {
  const what = `cannot ${describeAction(action)}: list took longer than ${deadlineMs / 1000} s`;
  return new RancherError('Timeout', what, { cause });
}

function describeBytes(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

/**
 * listPages follows pagination.next and returns every key, throwing LimitExceeded as soon as a key, page or
 * byte limit is crossed (before the offending page is parsed) and Timeout when the whole list outlives
 * its deadline.
 */
export async function listPages(
  transport: Transport,
  urls: RancherUrls,
  req: ListRequest,
): Promise<RancherApiKey[]> {
  const { action, limits } = req;
  const listDeadline = AbortSignal.timeout(limits.deadlineMs);
  const keys: RancherApiKey[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  let counted = 0;
  let url: string | undefined =
    `${urls.collection(req.scope)}?${new URLSearchParams({ limit: String(req.pageSize ?? DEFAULT_PAGE_SIZE), ...req.filters })}`;
  while (url !== undefined) {
    if (seen.has(url)) throw invalidResponse(action, 'pagination does not end');
    if (seen.size >= limits.maxPages) {
      throw limitExceeded(action, `more than ${limits.maxPages} pages (page limit of one list)`);
    }
    seen.add(url);
    const bodyLimit = {
      bytes: limits.maxBytes - bytes,
      name: `more than ${describeBytes(limits.maxBytes)} of responses (byte limit of one list)`,
    };
    const res: HttpResponse = await transport
      .send({ action, method: 'GET', url, retry: 'idempotent', signal: listDeadline, bodyLimit })
      .catch((err: unknown) => {
        throw listDeadline.aborted ? listTimeout(action, limits.deadlineMs, err) : err;
      });
    bytes += res.bytes;
    const page: z.output<typeof CollectionSchema> = parseWire(CollectionSchema, action, res.json, res.status);
    if (counted + page.data.length > limits.maxKeys) {
      throw limitExceeded(action, `more than ${limits.maxKeys} keys (key limit of one list)`);
    }
    counted += page.data.length;
    for (const item of page.data) {
      const key = parseWire(RancherApiKeySchema, action, item, res.status);
      if (req.keep === undefined || req.keep(key)) keys.push(key);
    }
    const next: string | null | undefined = page.pagination?.next;
    url = next === null || next === undefined || next === '' ? undefined : urls.rebase(action, next);
  }
  return keys;
}
