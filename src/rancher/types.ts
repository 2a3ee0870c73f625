import type { Dispatcher } from 'undici';
import type { CreatedRancherApiKey, RancherApiKey } from './schemas.ts';

/** ApiVersion is the Rancher 1.x API version path segment; both behave the same for apiKey. */
export type ApiVersion = 'v1' | 'v2-beta';

/** RancherCredentials is an access key / secret key pair used for HTTP Basic authentication. */
export interface RancherCredentials {
  accessKey: string;
  secretKey: string;
}

/** KeyScope selects environment scope (project id such as '1a5'); an undefined environment is account scope. */
export interface KeyScope {
  environment?: string;
}

/** RancherCallReport is what the metrics hook receives once per HTTP attempt. */
export interface RancherCallReport {
  action: string;
  status: number | 'error';
  durationMs: number;
}

/**
 * ListLimits bounds one paged list, so that a server that pages forever or answers slowly costs a known
 * amount of memory and time: at most `maxKeys` keys, `maxPages` pages and `maxBytes` of response bodies,
 * all within `deadlineMs` (the whole list, every page and retry included).
 */
export interface ListLimits {
  maxKeys: number;
  maxPages: number;
  maxBytes: number;
  deadlineMs: number;
}

/**
 * ListOptions bound one listKeys call (unset limits keep LOOKUP_LIST_LIMITS) and select the keys to hold:
 * `keep` runs on every listed key, so a long list that yields few wanted keys costs little memory.
 * `pageSize` is the `limit` asked for per page (default 1000; Cattle serves at most 3000).
 */
export type ListOptions = Partial<ListLimits> & {
  keep?: (key: RancherApiKey) => boolean;
  pageSize?: number;
};

/** RancherClientOptions configures one client: endpoint, credentials, TLS, timeouts, retries and hooks. */
export interface RancherClientOptions {
  /** Base URL without version, e.g. https://rancher.example.com (a trailing /v1 or /v2-beta is tolerated). */
  url: string;
  version: ApiVersion;
  credentials: RancherCredentials;
  /** PEM bundle that replaces the default trust store for this client. */
  caBundle?: string;
  /** Defaults: connect 5s, headers 8s, body 5s (idle), deadline 15s (whole call including retries). */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number; deadlineMs?: number };
  /** Retries for idempotent calls (GET, PUT); default 2. */
  retries?: number;
  /** First backoff delay in ms, doubled per retry with jitter; default 200. */
  retryBackoffMs?: number;
  /** Injected dispatcher (e.g. MockAgent); it is not closed by close(). */
  dispatcher?: Dispatcher;
  userAgent?: string;
  /** Called once per HTTP attempt; exceptions it throws are ignored. */
  onCall?: (call: RancherCallReport) => void;
}

/** RancherIdentity says who the client's credentials belong to and whether they may choose key values. */
export interface RancherIdentity {
  accountId: string;
  accountKind: string;
  canSupplyValues: boolean;
}

/** CreateKeyInput is the body of a create; publicValue/secretValue are honoured for admins only. */
export interface CreateKeyInput {
  name?: string;
  description?: string;
  publicValue?: string;
  secretValue?: string;
}

/** WaitOptions bounds waitForTransition; defaults 30s timeout, 250ms interval. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** RancherClient is the operator's whole view of the Rancher apiKey API. */
export interface RancherClient {
  /** identity returns who the credentials are; canSupplyValues is the publicValue create flag of the schema. */
  identity(): Promise<RancherIdentity>;
  /** getKey reads one key by id (removed and purged keys included); a 404 yields undefined. */
  getKey(id: string, scope?: KeyScope): Promise<RancherApiKey | undefined>;
  /**
   * findKeyByPublicValue returns the listed (non-removed) key with that publicValue, if any; the lookup is
   * bounded by LOOKUP_LIST_LIMITS (a filtered list holds one key, never thousands).
   */
  findKeyByPublicValue(publicValue: string, scope?: KeyScope): Promise<RancherApiKey | undefined>;
  /**
   * listKeys lists keys with Rancher filters such as `{ name: 'x' }`, following pagination.next, within
   * the options' limits (default LOOKUP_LIST_LIMITS; pass INVENTORY_LIST_LIMITS for a connection-wide
   * inventory) and returning only the keys `keep` selects (default all). Exceeding a key, page or byte
   * limit throws LimitExceeded; exceeding the list deadline throws Timeout.
   */
  listKeys(
    scope?: KeyScope,
    filters?: Record<string, string>,
    options?: ListOptions,
  ): Promise<RancherApiKey[]>;
  /** createKey creates a key and returns its one-time secretValue; it is never retried. */
  createKey(input: CreateKeyInput, scope?: KeyScope): Promise<CreatedRancherApiKey>;
  /** updateKey PUTs name/description to the key's self link. */
  updateKey(key: RancherApiKey, patch: { name?: string; description?: string }): Promise<RancherApiKey>;
  /** activateKey follows key.actions.activate; without that link it throws NotAllowedInState. */
  activateKey(key: RancherApiKey): Promise<RancherApiKey>;
  /** deactivateKey follows key.actions.deactivate; without that link it throws NotAllowedInState. */
  deactivateKey(key: RancherApiKey): Promise<RancherApiKey>;
  /** removeKey follows key.actions.remove; without that link it throws NotAllowedInState. */
  removeKey(key: RancherApiKey): Promise<RancherApiKey>;
  /** purgeKey follows key.actions.purge; without that link it throws NotAllowedInState. */
  purgeKey(key: RancherApiKey): Promise<RancherApiKey>;
  /**
   * waitForTransition polls the key's self link until `transitioning` is not 'yes'; it returns undefined once
   * the key is gone (404) and the last observation, still transitioning, when the timeout expires.
   */
  waitForTransition(key: RancherApiKey, opts?: WaitOptions): Promise<RancherApiKey | undefined>;
  /**
   * readKeyAs reads `key` through its self link authenticated as `credentials` (the key's own pair): one
   * request that proves the pair and shows the key's state, since Rancher authenticates only active keys.
   * 'unauthenticated' is a 401 (a wrong pair, or a key not active yet); 'hidden' a 403 or 404 (the pair
   * authenticates, or the key is gone, but this read shows nothing).
   */
  readKeyAs(
    key: RancherApiKey,
    credentials: RancherCredentials,
  ): Promise<RancherApiKey | 'unauthenticated' | 'hidden'>;
  /** verifyKey is true iff Rancher authenticates that pair (401 -> false; 403 still means authenticated). */
  verifyKey(credentials: RancherCredentials, scope?: KeyScope): Promise<boolean>;
  /** close releases the client's own connection pool. */
  close(): Promise<void>;
}

export type { CreatedRancherApiKey, RancherApiKey };
