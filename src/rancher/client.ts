import { setTimeout as sleep } from 'node:timers/promises';
import { describeAction, invalidResponse, RancherError } from './errors.ts';
import { LOOKUP_LIST_LIMITS, listPages } from './list-pages.ts';
import {
  ApiKeySchemaResourceSchema,
  CreatedRancherApiKeySchema,
  IdentityHeadersSchema,
  type RancherApiKey,
  RancherApiKeySchema,
} from './schemas.ts';
import { createTransport, type HttpResponse, type Transport } from './transport.ts';
import type { RancherClient, RancherClientOptions } from './types.ts';
import { createRancherUrls, parseRancherUrl, type RancherUrls } from './urls.ts';
import { parseWire } from './wire.ts';

export { parseWire } from './wire.ts';

// A hostile or stuck server can hold a call at most this long: headers within 8 s, no 5 s silence inside a
// body, 15 s for the whole call including retries (lists have their own, longer deadline per list).
const DEFAULTS = { connectMs: 5_000, headersMs: 8_000, bodyMs: 5_000, deadlineMs: 15_000 };
const DEFAULT_WAIT = { timeoutMs: 30_000, intervalMs: 250 };

const parseKey = (action: string, res: HttpResponse): RancherApiKey =>
  parseWire(RancherApiKeySchema, action, res.json, res.status);

function selfLink(urls: RancherUrls, action: string, key: RancherApiKey): string {
  const self = key.links.self;
  if (self === undefined) throw invalidResponse(action, 'key has no self link');
  return urls.rebase(action, self);
}

function definedOnly(input: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(input).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * createRancherClient returns a RancherClient for one Rancher endpoint and credential pair, holding one
 * keep-alive connection pool until close().
 */
export function createRancherClient(opts: RancherClientOptions): RancherClient {
  // An environment URL (…/v2-beta/projects/1a5[/schemas]) names the version and pins the environment.
  const target = parseRancherUrl(opts.url);
  const urls = createRancherUrls(target.base, target.version ?? opts.version, target.environment);
  const transport = createTransport({
    credentials: opts.credentials,
    userAgent: opts.userAgent ?? 'rancher-apikey-operator',
    timeouts: { ...DEFAULTS, ...opts.timeouts },
    retries: Math.max(0, opts.retries ?? 2),
    retryBackoffMs: opts.retryBackoffMs ?? 200,
    ...(opts.caBundle === undefined ? {} : { caBundle: opts.caBundle }),
    ...(opts.dispatcher === undefined ? {} : { dispatcher: opts.dispatcher }),
    ...(opts.onCall === undefined ? {} : { onCall: opts.onCall }),
  });

  async function runAction(verb: string, action: string, key: RancherApiKey): Promise<RancherApiKey> {
    const link = key.actions[verb];
    if (link === undefined) {
      throw new RancherError(
        'NotAllowedInState',
        `cannot ${describeAction(action)}: action ${verb} is not offered in state ${key.state}`,
      );
    }
    const url = urls.rebase(action, link);
    // Actions are not idempotent over HTTP: resend only when the request provably never left.
    const res = await transport.send({ action, method: 'POST', url, body: {}, retry: 'unsent' });
    return parseKey(action, res);
  }

  return {
    async identity() {
      const action = 'identity';
      const res = await transport.send({ action, method: 'GET', url: urls.schema(), retry: 'idempotent' });
      const headers = parseWire(IdentityHeadersSchema, action, res.headers, res.status);
      const schema = parseWire(ApiKeySchemaResourceSchema, action, res.json, res.status);
      return {
        accountId: headers['x-api-account-id'],
        accountKind: headers['x-api-account-kind'],
        canSupplyValues: schema.resourceFields.publicValue?.create ?? false,
      };
    },
    async getKey(id, scope) {
      const action = 'getKey';
      const url = urls.key(id, scope);
      const res = await transport.sendOrAbsent({ action, method: 'GET', url, retry: 'idempotent' });
      return res === undefined ? undefined : parseKey(action, res);
    },
    async findKeyByPublicValue(publicValue, scope) {
      // Rancher silently ignores unknown filters, so the match is checked here as well.
      const action = 'findKeyByPublicValue';
      const keys = await listPages(transport, urls, {
        action,
        scope,
        filters: { publicValue },
        limits: LOOKUP_LIST_LIMITS,
      });
      return keys.find((k) => k.publicValue === publicValue);
    },
    listKeys: (scope, filters, options) => {
      const { keep, pageSize, ...limits } = options ?? {};
      return listPages(transport, urls, {
        action: 'listKeys',
        scope,
        filters: filters ?? {},
        limits: { ...LOOKUP_LIST_LIMITS, ...limits },
        ...(keep === undefined ? {} : { keep }),
        ...(pageSize === undefined ? {} : { pageSize }),
      });
    },
    async createKey(input, scope) {
      const action = 'createKey';
      const body = definedOnly({ ...input });
      const url = urls.collection(scope);
      const res = await transport.send({ action, method: 'POST', url, body, retry: 'never' });
      return parseWire(CreatedRancherApiKeySchema, action, res.json, res.status);
    },
    async updateKey(key, patch) {
      const action = 'updateKey';
      const body = definedOnly({ name: patch.name, description: patch.description });
      if (Object.keys(body).length === 0) return key;
      const url = selfLink(urls, action, key);
      return parseKey(
        action,
        await transport.send({ action, method: 'PUT', url, body, retry: 'idempotent' }),
      );
    },
    activateKey: (key) => runAction('activate', 'activateKey', key),
    deactivateKey: (key) => runAction('deactivate', 'deactivateKey', key),
    removeKey: (key) => runAction('remove', 'removeKey', key),
    purgeKey: (key) => runAction('purge', 'purgeKey', key),
    waitForTransition: (key, wait) => waitForTransition(transport, urls, key, { ...DEFAULT_WAIT, ...wait }),
    async readKeyAs(key, credentials) {
      const action = 'readKeyAs';
      const url = selfLink(urls, action, key);
      try {
        const res = await transport.sendOrAbsent({
          action,
          method: 'GET',
          url,
          retry: 'idempotent',
          credentials,
        });
        return res === undefined ? 'hidden' : parseKey(action, res);
      } catch (err) {
        if (err instanceof RancherError && err.code === 'Unauthorized') return 'unauthenticated';
        if (err instanceof RancherError && err.code === 'Forbidden') return 'hidden';
        throw err;
      }
    },
    async verifyKey(credentials, scope) {
      const url = `${urls.collection(scope)}?limit=1`;
      try {
        await transport.send({ action: 'verifyKey', method: 'GET', url, retry: 'idempotent', credentials });
        return true;
      } catch (err) {
        // 403 means Rancher knew the pair but denied this scope: the pair itself authenticates.
        if (err instanceof RancherError && (err.code === 'Unauthorized' || err.code === 'Forbidden')) {
          return err.code === 'Forbidden';
        }
        throw err;
      }
    },
    close: () => transport.close(),
  };
}

async function waitForTransition(
  transport: Transport,
  urls: RancherUrls,
  key: RancherApiKey,
  wait: { timeoutMs: number; intervalMs: number },
): Promise<RancherApiKey | undefined> {
  const action = 'waitForTransition';
  const endsAt = performance.now() + wait.timeoutMs;
  let current = key;
  while (current.transitioning === 'yes') {
    const remaining = endsAt - performance.now();
    if (remaining <= 0) return current;
    await sleep(Math.min(wait.intervalMs, remaining));
    const url = selfLink(urls, action, current);
    const res = await transport.sendOrAbsent({ action, method: 'GET', url, retry: 'idempotent' });
    if (res === undefined) return undefined;
    current = parseKey(action, res);
  }
  return current;
}
