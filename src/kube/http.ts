import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { FIELD_MANAGER } from '../api/names.ts';

/**
 * KubeHttp sends the operator's per-key apiserver requests (Secret reads and writes, finalizer and status
 * patches, Events) as plain JSON over the shared keep-alive dispatcher. client-node's generated clients cost
 * far more CPU per call than the request itself: each call rebuilds the kubeconfig's TLS material (a file
 * read or a base64 decode of CA, certificate and key) and a throwaway undici Agent, goes through WHATWG
 * fetch and web streams, and walks every field of the body and response with its ObjectSerializer.
 */
export interface KubeHttp {
  /** request sends a JSON body (when given) and parses the JSON answer; a non-2xx answer throws KubeHttpError. */
  request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /**
   * open sends a GET and returns the answer with its body unread (a watch stream). A 401 drops the cached
   * authentication and is retried once; the caller reads, or destroys, the body of any other answer.
   */
  open(path: string, opts: { signal: AbortSignal; bodyTimeoutMs: number }): Promise<Dispatcher.ResponseData>;
}

/** KubeHttpError is a non-2xx apiserver answer: `code` is the HTTP status, `body` the Status text (no Secret data). */
export class KubeHttpError extends Error {
  readonly code: number;
  readonly body: string;
  constructor(method: string, path: string, code: number, body: string) {
    super(`${method} ${path}: HTTP ${code}`);
    this.name = 'KubeHttpError';
    this.code = code;
    this.body = body;
  }
}

/** How long the kubeconfig's authentication headers are reused (a projected token is re-read about every minute). */
const AUTH_TTL_MS = 10_000;

/**
 * createKubeHttp sends requests to the current context's server through `dispatcher` (which carries the TLS
 * material). Authentication headers come from client-node (bearer tokens, token files, exec and auth-provider
 * plugins, basic auth, impersonation) and are reused for AUTH_TTL_MS; a 401 drops them and retries once.
 */
export function createKubeHttp(kc: KubeConfig, dispatcher: Dispatcher): KubeHttp {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(server);
  const origin = url.origin;
  const prefix = url.pathname.replace(/\/$/, '');
  let auth: { headers: Record<string, string>; at: number } | undefined;

  async function authHeaders(): Promise<Record<string, string>> {
    const now = Date.now();
    if (auth && now - auth.at < AUTH_TTL_MS) return auth.headers;
    const headers: Record<string, string> = {};
    // The same authentication client-node applies to its own requests; its dispatcher is not used.
    const collector = {
      setHeaderParam: (k: string, v: string) => {
        headers[k] = v;
      },
      setDispatcher: () => undefined,
    } as unknown as RequestContext;
    await kc.applySecurityAuthentication(collector);
    auth = { headers, at: now };
    return headers;
  }

  const baseHeaders = async (): Promise<Record<string, string>> => ({
    ...(await authHeaders()),
    accept: 'application/json',
    'user-agent': FIELD_MANAGER,
  });

  async function send<T>(
    method: string,
    path: string,
    payload: string | undefined,
    contentType: string,
    retried: boolean,
  ): Promise<T> {
    const headers = await baseHeaders();
    if (payload !== undefined) headers['content-type'] = contentType;
    const res = await dispatcher.request({
      origin,
      path: prefix + path,
      method: method as Dispatcher.HttpMethod,
      headers,
      body: payload,
    });
    const text = await res.body.text();
    if (res.statusCode === 401) {
      auth = undefined;
      if (!retried) return send(method, path, payload, contentType, true);
    }
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new KubeHttpError(method, path, res.statusCode, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async function open(
    path: string,
    opts: { signal: AbortSignal; bodyTimeoutMs: number },
    retried = false,
  ): Promise<Dispatcher.ResponseData> {
    const res = await dispatcher.request({
      origin,
      path: prefix + path,
      method: 'GET',
      headers: await baseHeaders(),
      signal: opts.signal,
      bodyTimeout: opts.bodyTimeoutMs,
    });
    if (res.statusCode === 401) {
      auth = undefined;
      if (!retried) {
        await res.body.dump();
        return open(path, opts, true);
      }
    }
    return res;
  }

  return {
    request: (method, path, body, contentType = 'application/json') =>
      send(method, path, body === undefined ? undefined : JSON.stringify(body), contentType, false),
    open: (path, opts) => open(path, opts),
  };
}

/** seg encodes one path segment (names are DNS labels, but nothing a user wrote goes into a URL unescaped). */
export const seg = (s: string): string => encodeURIComponent(s);
