import { STATUS_CODES } from 'node:http';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { type Dispatcher, getGlobalDispatcher } from 'undici';
import { createKubeHttp, type KubeHttp } from './http.ts';

type WatchArgs = Parameters<Watch['watch']>;

const NEWLINE = 0x0a;

/**
 * WATCH_INACTIVITY_MS ends a watch that received nothing, not even a bookmark, for this long (client-node's
 * default is 30 s: every quiet watch reconnected twice a minute, each time over a new TLS connection).
 * The apiserver sends a bookmark about once a minute to a watch that asks for them.
 */
export const WATCH_INACTIVITY_MS = 150_000;
/** WATCH_TIMEOUT_S bounds one watch request server-side, spread over [5, 10) minutes like client-go's reflector. */
export const WATCH_TIMEOUT_S = { min: 300, spread: 300 };

/**
 * openWatch opens one watch over `http` and hands each NDJSON event to `callback`; `done` is called exactly
 * once: with null when the apiserver ends the stream (its timeoutSeconds), with a TimeoutError when nothing
 * arrived for inactivityMs (ListWatch then reconnects at once from its resourceVersion), with an error
 * carrying `statusCode` for a non-200 answer, and with the error otherwise. Aborting the returned controller
 * ends the watch without a `done`.
 *
 * It replaces client-node's Watch, which runs every event through WHATWG fetch, web streams converted back
 * to Node streams, readline and a fresh inactivity timer: about four events per new key, at every key.
 */
export async function openWatch(
  http: KubeHttp,
  inactivityMs: number,
  ...[path, params, callback, done]: WatchArgs
): Promise<AbortController> {
  const controller = new AbortController();
  const query = new URLSearchParams({ watch: 'true' });
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined) query.set(k, String(v));
  let body: Dispatcher.ResponseData['body'] | undefined;
  let ended = false;
  const end = (err: unknown) => {
    if (ended) return;
    ended = true;
    body?.destroy();
    if (!controller.signal.aborted) done(err);
  };
  try {
    const res = await http.open(`${path}?${query}`, {
      signal: controller.signal,
      bodyTimeoutMs: inactivityMs,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      const message = `watch ${path}: HTTP ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}`.trim();
      end(Object.assign(new Error(message), { statusCode: res.statusCode }));
      return controller;
    }
    body = res.body;
  } catch (err) {
    end(asTimeout(err, inactivityMs));
    return controller;
  }
  // Lines are cut from the raw bytes (a newline byte never occurs inside a UTF-8 character) and decoded once
  // each: building a large event by string concatenation copied it again at every chunk.
  let parts: Buffer[] = [];
  const deliver = (bytes: Buffer) => {
    const line = bytes.toString('utf8');
    if (line.trim() === '') return;
    try {
      const event = JSON.parse(line) as { type: string; object: unknown };
      // ListWatch's handler is async: a rejection ends the watch instead of becoming unhandled.
      const handled: unknown = callback(event.type, event.object, event);
      if (handled instanceof Promise) handled.catch(end);
    } catch (err) {
      // A line that is not an event means the stream cannot be trusted: end it, ListWatch starts over.
      end(err instanceof SyntaxError ? new Error(`watch ${path}: an event was not JSON`) : err);
    }
  };
  body.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0 && !ended; nl = chunk.indexOf(NEWLINE, start)) {
      parts.push(chunk.subarray(start, nl));
      start = nl + 1;
      const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      parts = [];
      deliver(bytes);
    }
    if (start < chunk.length && !ended) parts.push(chunk.subarray(start));
  });
  body.on('end', () => end(null));
  body.on('close', () => end(null));
  body.on('error', (err) => end(asTimeout(err, inactivityMs)));
  return controller;
}

/** asTimeout turns undici's body timeout into the TimeoutError on which ListWatch reconnects without backoff. */
function asTimeout(err: unknown, inactivityMs: number): unknown {
  if ((err as { code?: string })?.code !== 'UND_ERR_BODY_TIMEOUT') return err;
  return new DOMException(`watch received nothing for ${inactivityMs} ms`, 'TimeoutError');
}

/** GuardedWatchOptions: the pool watches share, the jitter source and the inactivity limit (tests shorten it). */
export type GuardedWatchOptions = { dispatcher?: Dispatcher; random?: () => number; inactivityMs?: number };

// Phases whose object is a watched resource (ERROR carries a Status, BOOKMARK only a resourceVersion).
const OBJECT_PHASES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * GuardedWatch is the watch ListWatch drives: it opens watches itself (openWatch) over one keep-alive pool
 * (undici's global dispatcher unless given one), and adds three fixes for ListWatch: a watch() that rejects
 * (for example when credentials cannot be loaded) reports through `done` instead of an unhandled rejection;
 * requestRelist() makes the next watch end at once with 410 so that ListWatch lists again; and after
 * supersede() the callbacks of older watches are dropped, so a late `done` from an aborted watch cannot
 * abort the watch that replaced it. setTransform() rewrites each event's object before ListWatch caches it.
 * Watches ask for bookmarks and a server-side timeout.
 */
export class GuardedWatch extends Watch {
  private readonly kc: KubeConfig;
  private readonly dispatcher: Dispatcher;
  private readonly random: () => number;
  private readonly inactivityMs: number;
  private http: KubeHttp | undefined;

  constructor(kc: KubeConfig, opts: GuardedWatchOptions = {}) {
    super(kc);
    this.kc = kc;
    this.dispatcher = opts.dispatcher ?? getGlobalDispatcher();
    this.random = opts.random ?? Math.random;
    this.inactivityMs = opts.inactivityMs ?? WATCH_INACTIVITY_MS;
  }

  private relistRequested = false;
  private currentGeneration = 0;
  private transformObject: (obj: unknown) => unknown = (obj) => obj;

  /** generation increases with every supersede(); work started under an older one is stale. */
  get generation(): number {
    return this.currentGeneration;
  }

  /** supersede marks every watch opened so far as stale: their events and completion are ignored. */
  supersede(): void {
    this.currentGeneration++;
  }

  /** setTransform passes every ADDED, MODIFIED and DELETED object through fn before the watcher sees it. */
  setTransform(fn: (obj: unknown) => unknown): void {
    this.transformObject = fn;
  }

  /** requestRelist makes the next watch() answer 410 Gone, forcing ListWatch to list again. */
  requestRelist(): void {
    this.relistRequested = true;
  }

  /** clearRelistRequest withdraws a pending requestRelist, because a list is happening anyway. */
  clearRelistRequest(): void {
    this.relistRequested = false;
  }

  override async watch(...[path, params, callback, done]: WatchArgs): Promise<AbortController> {
    const query = {
      ...params,
      allowWatchBookmarks: true,
      timeoutSeconds: WATCH_TIMEOUT_S.min + Math.floor(this.random() * WATCH_TIMEOUT_S.spread),
    };
    const generation = this.currentGeneration;
    const current = () => generation === this.currentGeneration;
    const guardedDone = (err: unknown) => {
      if (current()) done(err);
    };
    if (this.relistRequested) {
      this.relistRequested = false;
      // Deliver after ListWatch has stored this controller, so its bookkeeping stays consistent.
      setImmediate(() => guardedDone(Object.assign(new Error('forced relist'), { statusCode: 410 })));
      return new AbortController();
    }
    try {
      const guardedCallback: WatchArgs[2] = (phase, obj, watchObj) => {
        if (!current()) return;
        callback(phase, OBJECT_PHASES.has(phase) ? this.transformObject(obj) : obj, watchObj);
      };
      return await this.connect(path, query, guardedCallback, guardedDone);
    } catch (err) {
      setImmediate(() => guardedDone(err));
      return new AbortController();
    }
  }

  /** connect opens the real watch; the seam tests override to feed events without an apiserver. */
  protected connect(...args: WatchArgs): Promise<AbortController> {
    // Built on first use: the kubeconfig may have no cluster until a watch is really opened (tests).
    this.http ??= createKubeHttp(this.kc, this.dispatcher);
    return openWatch(this.http, this.inactivityMs, ...args);
  }
}
