import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

type WatchArgs = Parameters<Watch['watch']>;

/**
 * WATCH_INACTIVITY_MS ends a watch that received nothing, not even a bookmark, for this long (client-node's
 * default is 30 s: every quiet watch reconnected twice a minute, each time over a new TLS connection).
 * The apiserver sends a bookmark about once a minute to a watch that asks for them.
 */
export const WATCH_INACTIVITY_MS = 150_000;
/** WATCH_TIMEOUT_S bounds one watch request server-side, spread over [5, 10) minutes like client-go's reflector. */
export const WATCH_TIMEOUT_S = { min: 300, spread: 300 };

/**
 * withDispatcher returns a view of kc whose requests go through `dispatcher` (one keep-alive pool) instead of
 * the new undici Agent client-node builds for every watch request.
 */
function withDispatcher(kc: KubeConfig, dispatcher: Dispatcher): KubeConfig {
  const view = Object.create(kc) as KubeConfig;
  view.applySecurityAuthentication = async (ctx) => {
    await kc.applySecurityAuthentication(ctx);
    ctx.setDispatcher(dispatcher);
  };
  return view;
}

// Phases whose object is a watched resource (ERROR carries a Status, BOOKMARK only a resourceVersion).
const OBJECT_PHASES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * GuardedWatch is client-node's Watch with three fixes for ListWatch: a watch() that rejects (for example when
 * credentials cannot be loaded) reports through `done` instead of becoming an unhandled rejection;
 * requestRelist() makes the next watch end at once with 410 so that ListWatch lists again; and after
 * supersede() the callbacks of older watches are dropped, so a late `done` from an aborted watch cannot
 * abort the watch that replaced it. setTransform() rewrites each event's object before ListWatch caches it.
 * Watches ask for bookmarks and a server-side timeout, and, given a dispatcher, share its connection pool.
 */
export class GuardedWatch extends Watch {
  private readonly random: () => number;

  constructor(kc: KubeConfig, dispatcher?: Dispatcher, random: () => number = Math.random) {
    super(dispatcher ? withDispatcher(kc, dispatcher) : kc);
    // client-node declares the inactivity timeout private but reads it on every watch; it has no setter.
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_INACTIVITY_MS;
    this.random = random;
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
    return super.watch(...args);
  }
}
