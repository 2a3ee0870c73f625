import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { getCACertificates } from 'node:tls';
import { Agent, type Dispatcher, EnvHttpProxyAgent, request } from 'undici';
import {
  describeAction,
  errorFromResponse,
  invalidResponse,
  isRetryable,
  limitExceeded,
  RancherError,
} from './errors.ts';
import type { RancherCallReport, RancherCredentials } from './types.ts';

/**
 * RetryPolicy says when a failed call may be sent again: `idempotent` (GET, PUT) on any retryable error,
 * `unsent` only when the connection failed before a byte of the request was written, `never` not at all.
 */
export type RetryPolicy = 'idempotent' | 'unsent' | 'never';

/** HttpRequest is one logical call; `action` names it in errors and metrics. */
export interface HttpRequest {
  action: string;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  retry: RetryPolicy;
  body?: unknown;
  /** Credentials for this call only (verifyKey); default the transport's own. */
  credentials?: RancherCredentials;
  /** An extra abort signal, such as the deadline of a whole list; it ends retries too. */
  signal?: AbortSignal;
  /** A tighter cap on this response body than MAX_BODY_BYTES (a list's remaining byte budget), named in the error. */
  bodyLimit?: { bytes: number; name: string };
}

/** HttpResponse is a 2xx response with its parsed JSON body and the body's size in bytes. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
  bytes: number;
}

/** TransportOptions are the resolved client options the transport needs. */
export interface TransportOptions {
  credentials: RancherCredentials;
  userAgent: string;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number; deadlineMs: number };
  retries: number;
  retryBackoffMs: number;
  caBundle?: string;
  /** The roots a caBundle is added to; default Node's own (trustedRoots). A test seam. */
  defaultRoots?: readonly string[];
  dispatcher?: Dispatcher;
  onCall?: (call: RancherCallReport) => void;
}

/** Transport sends JSON calls with auth, timeouts, a deadline and retries, and maps failures to RancherError. */
export interface Transport {
  /** send returns the 2xx response or throws a RancherError. */
  send(req: HttpRequest): Promise<HttpResponse>;
  /** sendOrAbsent is send, except that a 404 yields undefined. */
  sendOrAbsent(req: HttpRequest): Promise<HttpResponse | undefined>;
  close(): Promise<void>;
}

type Outcome =
  | { ok: true; response: HttpResponse | undefined }
  | { ok: false; error: RancherError; unsent: boolean };

/** MAX_BODY_BYTES caps one 2xx response body: a page of 1,000 keys is 1-2 MiB of JSON. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
const BODY_LIMIT = { bytes: MAX_BODY_BYTES, name: 'response body larger than 8 MiB (response limit)' };
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_BACKOFF_MS = 5_000;
// Failures of the connect phase: the request was provably never written, so even a write may be resent.
const UNSENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// OpenSSL's verdicts on a server certificate no trusted root vouches for (Node's error codes).
const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** toRancherError classifies a thrown transport failure; the cause keeps only the low-level name and code. */
export function toRancherError(action: string, err: unknown, deadline: AbortSignal): RancherError {
  if (err instanceof RancherError) return err;
  const what = describeAction(action);
  const code = errorCodeOf(err);
  const cause = Object.assign(new Error(code ?? (err instanceof Error ? err.name : 'unknown')), { code });
  if (deadline.aborted) return new RancherError('Timeout', `cannot ${what}: deadline exceeded`, { cause });
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new RancherError('Timeout', `cannot ${what}: ${code}`, { cause });
  }
  if (code !== undefined && UNTRUSTED_CERT_CODES.has(code)) {
    const hint = 'add the CA that signed it to the connection’s caBundle or caBundleRef';
    return new RancherError('Transport', `cannot ${what}: TLS certificate not trusted (${code}); ${hint}`, {
      cause,
    });
  }
  if (code === 'UND_ERR_PRX_CONN' || code === 'UND_ERR_PRX_TLS') {
    return new RancherError('Transport', `cannot ${what}: proxy connection failed (${code})`, { cause });
  }
  return new RancherError('Transport', `cannot ${what}: transport error ${code ?? 'unknown'}`, { cause });
}

async function readBody(
  body: Dispatcher.ResponseData['body'],
  limit: { bytes: number; name: string },
  action: string,
): Promise<{ raw: string; bytes: number }> {
  // Chunks are decoded as they arrive: no second copy of a large body is held outside the JS heap.
  const decoder = new StringDecoder('utf8');
  const parts: string[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > limit.bytes) {
      body.destroy();
      throw limitExceeded(action, limit.name);
    }
    parts.push(decoder.write(buf));
  }
  parts.push(decoder.end());
  return { raw: parts.join(''), bytes: size };
}

function bodyLimitOf(req: HttpRequest, ok: boolean): { bytes: number; name: string } {
  if (!ok) return { bytes: MAX_ERROR_BODY_BYTES, name: 'error body larger than 64 KiB (response limit)' };
  return req.bodyLimit !== undefined && req.bodyLimit.bytes < MAX_BODY_BYTES ? req.bodyLimit : BODY_LIMIT;
}

function basicAuth(c: RancherCredentials): string {
  return `Basic ${Buffer.from(`${c.accessKey}:${c.secretKey}`).toString('base64')}`;
}

/** The variables that send Rancher calls through a proxy (NO_PROXY / no_proxy lists the exceptions). */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/**
 * trustedRoots is the CA list a connection with a caBundle verifies Rancher against: Node's default roots
 * (its bundled Mozilla store, NODE_EXTRA_CA_CERTS, and the system store under --use-system-ca) and the bundle.
 * TLS `ca` replaces the default roots, so the bundle alone would drop a certificate a public CA signed.
 */
export function trustedRoots(
  caBundle: string,
  defaults: readonly string[] = getCACertificates('default'),
): string[] {
  return [...defaults, caBundle];
}

/**
 * createAgent builds the keep-alive dispatcher. When HTTP(S)_PROXY is set it is undici's EnvHttpProxyAgent,
 * which sends each call through the proxy unless NO_PROXY matches the host (plain HTTP as a forwarded request,
 * HTTPS tunnelled with CONNECT, the trusted roots then verifying Rancher's certificate inside the tunnel).
 */
function createAgent(opts: TransportOptions, env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const options = {
    connections: 32,
    allowH2: false,
    connectTimeout: opts.timeouts.connectMs,
    headersTimeout: opts.timeouts.headersMs,
    bodyTimeout: opts.timeouts.bodyMs,
  };
  const roots = opts.caBundle === undefined ? undefined : trustedRoots(opts.caBundle, opts.defaultRoots);
  const ca = roots === undefined ? {} : { connect: { ca: roots } };
  if (!PROXY_VARIABLES.some((v) => env[v])) return new Agent({ ...options, ...ca });
  const tunnelCa = roots === undefined ? {} : { requestTls: { ca: roots } };
  return new EnvHttpProxyAgent({ ...options, ...ca, ...tunnelCa });
}

/** createTransport builds a Transport over one shared keep-alive Agent (or the injected dispatcher). */
export function createTransport(opts: TransportOptions): Transport {
  const owned = opts.dispatcher === undefined;
  const dispatcher: Dispatcher = opts.dispatcher ?? createAgent(opts);

  function report(action: string, status: number | 'error', started: number): void {
    try {
      opts.onCall?.({ action, status, durationMs: performance.now() - started });
    } catch {
      // A failing metrics hook must never fail the call it observes.
    }
  }

  async function attempt(req: HttpRequest, absentOk: boolean, deadline: AbortSignal): Promise<Outcome> {
    const started = performance.now();
    let status: number | 'error' = 'error';
    try {
      const res = await request(req.url, {
        method: req.method,
        dispatcher,
        signal: deadline,
        headersTimeout: opts.timeouts.headersMs,
        bodyTimeout: opts.timeouts.bodyMs,
        headers: {
          accept: 'application/json',
          'user-agent': opts.userAgent,
          authorization: basicAuth(req.credentials ?? opts.credentials),
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      });
      status = res.statusCode;
      const ok = status >= 200 && status < 300;
      const { raw, bytes } = await readBody(res.body, bodyLimitOf(req, ok), req.action);
      if (status === 404 && absentOk) return { ok: true, response: undefined };
      if (!ok) return { ok: false, error: errorFromResponse(req.action, status, raw), unsent: false };
      return {
        ok: true,
        response: { status, headers: res.headers, json: parseJson(req.action, raw, status), bytes },
      };
    } catch (err) {
      const code = errorCodeOf(err);
      const unsent = status === 'error' && code !== undefined && UNSENT_CODES.has(code);
      return { ok: false, error: toRancherError(req.action, err, deadline), unsent };
    } finally {
      report(req.action, status, started);
    }
  }

  function mayRetry(req: HttpRequest, outcome: Outcome & { ok: false }, n: number): boolean {
    if (n >= opts.retries) return false;
    if (req.retry === 'idempotent') return isRetryable(outcome.error);
    return req.retry === 'unsent' && outcome.unsent;
  }

  async function sendWithRetries(req: HttpRequest, absentOk: boolean): Promise<HttpResponse | undefined> {
    const timeout = AbortSignal.timeout(opts.timeouts.deadlineMs);
    const deadline = req.signal === undefined ? timeout : AbortSignal.any([timeout, req.signal]);
    const endsAt = performance.now() + opts.timeouts.deadlineMs;
    for (let n = 0; ; n++) {
      const outcome = await attempt(req, absentOk, deadline);
      if (outcome.ok) return outcome.response;
      const delay = Math.min(MAX_BACKOFF_MS, opts.retryBackoffMs * 2 ** n) * (0.5 + Math.random() / 2);
      const late = performance.now() + delay >= endsAt || deadline.aborted;
      if (!mayRetry(req, outcome, n) || late) throw outcome.error;
      await sleep(delay);
    }
  }

  return {
    async send(req) {
      const res = await sendWithRetries(req, false);
      if (res === undefined) throw invalidResponse(req.action, 'no response');
      return res;
    },
    sendOrAbsent: (req) => sendWithRetries(req, true),
    async close() {
      if (owned) await dispatcher.close();
    },
  };
}

function parseJson(action: string, raw: string, status: number): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw invalidResponse(action, 'response is not JSON', status);
  }
}
