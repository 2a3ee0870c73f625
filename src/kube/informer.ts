import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
} from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import type { Logger } from '../observability/logger.ts';
import { type Clock, realClock, type TimerHandle } from '../runtime/clock.ts';
import { GuardedWatch } from './informer-watch.ts';

/** InformerBackoff is the restart delay after an informer error (client-go reflector: 800 ms -> 30 s). */
export type InformerBackoff = { initialMs: number; maxMs: number; resetAfterMs: number };

/** ResilientInformerOptions configures createResilientInformer. */
export type ResilientInformerOptions<T extends KubernetesObject> = {
  /** name labels logs and the informer_restarts_total metric (for example "apikeys"). */
  name: string;
  kubeConfig: KubeConfig;
  path: string;
  listFn: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T) => void;
  onDelete?: (obj: T) => void;
  logger: Logger;
  metrics?: { informerRestarted(resource: string): void };
  backoff?: Partial<InformerBackoff>;
  /** stallTimeoutMs forces a relist when no event and no (re)connect happened for this long (default 5 min). */
  stallTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
  /**
   * transform rewrites every object before it enters the cache, from the list and from every watch event
   * (for example to drop data the operator does not need). It must be total, pure and idempotent.
   */
  transform?: (obj: T) => T;
  /** watch replaces the GuardedWatch built from kubeConfig (tests feed events through it). */
  watch?: GuardedWatch;
  /** watchDispatcher is the connection pool watches share (default: undici's global dispatcher). */
  watchDispatcher?: Dispatcher;
};

/** ResilientInformer is a cache of one resource kept up to date by list+watch, restarting itself on errors. */
export type ResilientInformer<T extends KubernetesObject> = {
  start(): Promise<void>;
  stop(): Promise<void>;
  hasSynced(): boolean;
  /** whenSynced resolves after the first successful list has been applied to the cache. */
  whenSynced(): Promise<void>;
  list(namespace?: string): ReadonlyArray<T>;
  get(name: string, namespace?: string): T | undefined;
};

const DEFAULT_BACKOFF: InformerBackoff = { initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000 };

/**
 * createResilientInformer wraps client-node's ListWatch: handler exceptions are caught and logged, an
 * `error` (which stops ListWatch) schedules one restart with jittered exponential backoff, AbortErrors from
 * its own stop are ignored, and a watchdog relists when the watch has been silent for stallTimeoutMs.
 */
export function createResilientInformer<T extends KubernetesObject>(
  options: ResilientInformerOptions<T>,
): ResilientInformer<T> {
  const { name, logger: log } = options;
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const stallTimeoutMs = options.stallTimeoutMs ?? 300_000;
  const watch =
    options.watch ?? new GuardedWatch(options.kubeConfig, { dispatcher: options.watchDispatcher });
  const transform = options.transform;
  // ListWatch treats every watched object as a T already; the transform only narrows what is kept of it.
  if (transform) watch.setTransform((obj) => transform(obj as T));
  let running = false;
  let synced = false;
  let markSynced: () => void = () => {};
  const syncedPromise = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  let lastActivity = clock.now();
  let restartTimer: TimerHandle | undefined;
  let watchdogTimer: TimerHandle | undefined;
  let nextDelayMs = backoff.initialMs;
  let lastFailureAt = Number.NEGATIVE_INFINITY;

  const listFn = async () => {
    const generation = watch.generation;
    watch.clearRelistRequest();
    const listed = await options.listFn();
    const list = transform ? { ...listed, items: listed.items.map(transform) } : listed;
    if (generation !== watch.generation) {
      // A restart happened while this list was in flight: its result must not reach the new cache.
      throw new DOMException('list superseded by a restart', 'AbortError');
    }
    if (!synced) {
      // ListWatch applies the list to its cache synchronously right after this promise settles.
      setImmediate(() => {
        synced = true;
        markSynced();
        log.info({ informer: name }, 'informer synced');
      });
    }
    return list;
  };
  const delayFn = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
  const informer = new ListWatch<T>(
    options.path,
    watch,
    listFn,
    false,
    options.labelSelector,
    options.fieldSelector,
    { delayFn },
  );

  const guard = (verb: string, handler: ((obj: T) => void) | undefined) => (obj: T) => {
    lastActivity = clock.now();
    try {
      handler?.(obj);
    } catch (err) {
      log.error({ err, informer: name, verb, object: objectKey(obj) }, 'informer handler failed');
    }
  };
  informer.on('add', guard('add', options.onAdd));
  informer.on('update', guard('update', options.onUpdate));
  informer.on('delete', guard('delete', options.onDelete));
  informer.on('connect', () => {
    lastActivity = clock.now();
  });
  informer.on('error', (err: unknown) => {
    if (!running || isAbortError(err)) return; // caused by our own stop() or restart
    scheduleRestart(err);
  });

  const scheduleRestart = (err: unknown) => {
    if (restartTimer !== undefined) return; // one pending restart only
    const now = clock.now();
    if (now - lastFailureAt > backoff.resetAfterMs) nextDelayMs = backoff.initialMs;
    lastFailureAt = now;
    const delay = Math.min(backoff.maxMs, nextDelayMs * (1 + random()));
    nextDelayMs = Math.min(backoff.maxMs, nextDelayMs * 2);
    log.warn({ err, informer: name, retryInMs: Math.round(delay) }, 'informer stopped; restarting');
    restartTimer = clock.setTimeout(() => {
      restartTimer = undefined;
      if (running) restart(false);
    }, delay);
  };

  const restart = (relist: boolean) => {
    options.metrics?.informerRestarted(name);
    lastActivity = clock.now();
    watch.supersede();
    if (relist) watch.requestRelist();
    void (async () => {
      await informer.stop();
      if (running) await informer.start();
    })().catch((err: unknown) => scheduleRestart(err));
  };

  const armWatchdog = () => {
    const checkEvery = Math.max(1_000, stallTimeoutMs / 5);
    watchdogTimer = clock.setTimeout(() => {
      if (!running) return;
      if (clock.now() - lastActivity >= stallTimeoutMs && restartTimer === undefined) {
        log.warn({ informer: name, silentForMs: clock.now() - lastActivity }, 'watch stalled; relisting');
        restart(true);
      }
      armWatchdog();
    }, checkEvery);
  };

  return {
    async start() {
      if (running) return;
      running = true;
      lastActivity = clock.now();
      armWatchdog();
      await informer.start();
    },
    async stop() {
      running = false;
      for (const timer of [restartTimer, watchdogTimer]) if (timer !== undefined) clock.clearTimeout(timer);
      restartTimer = undefined;
      watchdogTimer = undefined;
      await informer.stop();
    },
    hasSynced: () => synced,
    whenSynced: () => syncedPromise,
    list: (namespace) => informer.list(namespace),
    get: (objectName, namespace) => informer.get(objectName, namespace),
  };
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : (obj.metadata?.name ?? '');
}
