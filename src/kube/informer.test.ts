import { KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createFakeClock, type FakeClock } from '../runtime/fake-clock.test-support.ts';
import { createResilientInformer, type ResilientInformerOptions } from './informer.ts';
import { GuardedWatch } from './informer-watch.ts';

type Obj = KubernetesObject & { metadata: { name: string; namespace: string; resourceVersion: string } };
type Call = Parameters<GuardedWatch['watch']>;

const flush = async () => {
  for (let i = 0; i < 8; i++) await new Promise((r) => setImmediate(r));
};
const obj = (name: string, rv: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** FakeWatch records every watch connection instead of calling an apiserver. */
class FakeWatch extends GuardedWatch {
  readonly calls: Call[] = [];
  constructor() {
    super(new KubeConfig());
  }
  protected override async connect(...args: Call): Promise<AbortController> {
    this.calls.push(args);
    const controller = new AbortController();
    const done = args[3];
    controller.signal.addEventListener('abort', () =>
      setImmediate(() => done(new DOMException('This operation was aborted', 'AbortError'))),
    );
    return controller;
  }
  last(): Call {
    const call = this.calls.at(-1);
    if (!call) throw new Error('no watch opened');
    return call;
  }
  emit(phase: string, o: Obj) {
    this.last()[2](phase, o);
  }
}

function setup(overrides: Partial<ResilientInformerOptions<Obj>> = {}) {
  const clock = createFakeClock(0);
  const watch = new FakeWatch();
  const lists: Array<KubernetesListObject<Obj> | Error> = [];
  let listCalls = 0;
  const seen: string[] = [];
  const logs: string[] = [];
  const metrics = createMetrics();
  const informer = createResilientInformer<Obj>({
    name: 'apikeys',
    kubeConfig: new KubeConfig(),
    path: '/apis/x/v1/apikeys',
    listFn: async () => {
      listCalls++;
      const next = lists.shift() ?? { items: [], metadata: { resourceVersion: '1' } };
      if (next instanceof Error) throw next;
      return next;
    },
    onAdd: (o) => void seen.push(`add ${o.metadata.name}`),
    onUpdate: (o) => void seen.push(`update ${o.metadata.name}`),
    onDelete: (o) => void seen.push(`delete ${o.metadata.name}`),
    logger: createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } }),
    metrics,
    clock,
    random: () => 0,
    watch,
    ...overrides,
  });
  const restarts = async () =>
    (await metrics.registry.metrics()).match(/informer_restarts_total\{resource="apikeys"\} (\d+)/)?.[1] ??
    '0';
  return { clock, watch, lists, listCalls: () => listCalls, seen, logs, informer, restarts };
}

async function advance(clock: FakeClock, ms: number, step = 100) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

const list = (rv: string, ...items: Obj[]): KubernetesListObject<Obj> => ({
  items,
  metadata: { resourceVersion: rv },
});

describe('createResilientInformer', () => {
  it('reports synced only after the first list is in the cache', async () => {
    const h = setup();
    h.lists.push(list('5', obj('a', '3'), obj('b', '4')));
    expect(h.informer.hasSynced()).toBe(false);
    await h.informer.start();
    await h.informer.whenSynced();
    expect(h.informer.hasSynced()).toBe(true);
    expect(h.informer.list().map((o) => o.metadata?.name)).toEqual(['a', 'b']);
    expect(h.informer.get('a', 'ns')?.metadata?.resourceVersion).toBe('3');
    expect(h.seen).toEqual(['add a', 'add b']);
    expect(h.watch.last()[1]).toMatchObject({ resourceVersion: '5' });
  });

  it('applies watch events and survives a throwing handler', async () => {
    let throwOnce = true;
    const h = setup({
      onUpdate: (o) => {
        if (throwOnce) {
          throwOnce = false;
          throw new Error('handler bug');
        }
        h.seen.push(`update ${o.metadata.name}`);
      },
    });
    await h.informer.start();
    await flush();
    h.watch.emit('ADDED', obj('a', '2'));
    h.watch.emit('MODIFIED', obj('a', '3'));
    h.watch.emit('MODIFIED', obj('a', '4'));
    h.watch.emit('DELETED', obj('a', '5'));
    await flush();
    expect(h.seen).toEqual(['add a', 'update a', 'delete a']);
    expect(h.informer.list()).toEqual([]);
    expect(h.logs.join('')).toContain('informer handler failed');
  });

  it('restarts after an error with exponential backoff starting at 800 ms', async () => {
    const h = setup();
    await h.informer.start();
    await flush();
    h.watch.last()[3](Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
    await advance(h.clock, 700);
    expect(h.watch.calls).toHaveLength(1);
    await advance(h.clock, 100);
    expect(h.watch.calls).toHaveLength(2);
    h.watch.last()[3](Object.assign(new Error('Forbidden'), { statusCode: 403 }));
    await advance(h.clock, 1_500);
    expect(h.watch.calls).toHaveLength(2);
    await advance(h.clock, 100);
    expect(h.watch.calls).toHaveLength(3);
    expect(await h.restarts()).toBe('2');
  });

  it('keeps retrying a failing list and syncs once it succeeds', async () => {
    const h = setup();
    h.lists.push(new Error('forbidden'), new Error('forbidden'), list('9', obj('a', '9')));
    await h.informer.start();
    await advance(h.clock, 800);
    expect(h.informer.hasSynced()).toBe(false);
    await advance(h.clock, 1_600);
    expect(h.listCalls()).toBe(3);
    expect(h.informer.hasSynced()).toBe(true);
    expect(h.seen).toEqual(['add a']);
  });

  it('ignores the AbortError of its own stop and does not restart', async () => {
    const h = setup();
    await h.informer.start();
    await flush();
    await h.informer.stop();
    await advance(h.clock, 60_000, 1_000);
    expect(h.watch.calls).toHaveLength(1);
    expect(await h.restarts()).toBe('0');
  });

  it('relists when the watch has been silent for the stall timeout', async () => {
    const h = setup({ stallTimeoutMs: 60_000 });
    h.lists.push(list('5', obj('a', '3'), obj('gone', '4')), list('8', obj('a', '7')));
    await h.informer.start();
    await advance(h.clock, 50_000, 1_000);
    h.watch.emit('MODIFIED', obj('a', '6'));
    // The watchdog checks every stallTimeout/5: silent since t=50s, it fires at the t=120s check.
    await advance(h.clock, 69_000, 1_000);
    expect(h.listCalls()).toBe(1);
    await advance(h.clock, 1_000, 1_000);
    expect(h.listCalls()).toBe(2);
    expect(h.seen).toEqual(['add a', 'add gone', 'update a', 'delete gone', 'update a']);
    expect(h.watch.last()[1]).toMatchObject({ resourceVersion: '8' });
    expect(await h.restarts()).toBe('1');
  });

  it('passes listed objects and every watch event through the transform before they enter the cache', async () => {
    const big = (name: string, rv: string): Obj =>
      ({ ...obj(name, rv), data: { v: 'x'.repeat(1_000) } }) as Obj;
    const handled: unknown[] = [];
    const h = setup({
      transform: (o) => {
        const { data: _dropped, ...rest } = o as Obj & { data?: unknown };
        return { ...rest, metadata: { ...rest.metadata, annotations: { stripped: 'true' } } };
      },
      onAdd: (o) => void handled.push(o),
      onUpdate: (o) => void handled.push(o),
      onDelete: (o) => void handled.push(o),
    });
    h.lists.push(list('5', big('listed', '3')));
    await h.informer.start();
    await h.informer.whenSynced();
    h.watch.emit('ADDED', big('added', '6'));
    h.watch.emit('MODIFIED', big('listed', '7'));
    h.watch.emit('BOOKMARK', obj('', '8'));
    await flush();
    for (const name of ['listed', 'added']) {
      expect(h.informer.get(name, 'ns')).not.toHaveProperty('data');
      expect(h.informer.get(name, 'ns')?.metadata?.annotations).toEqual({ stripped: 'true' });
    }
    expect(h.informer.get('listed', 'ns')?.metadata?.resourceVersion).toBe('7');
    h.watch.emit('DELETED', big('added', '9'));
    await flush();
    expect(h.informer.get('added', 'ns')).toBeUndefined();
    expect(handled).toHaveLength(4);
    expect(handled.every((o) => !JSON.stringify(o).includes('xxxx'))).toBe(true);
    // The watch resumes from the last event: the transformed objects keep their resourceVersion.
    h.watch.last()[3](null);
    await flush();
    expect(h.watch.last()[1]).toMatchObject({ resourceVersion: '9' });
  });

  it('drops a list that was still in flight when a restart superseded it', async () => {
    let release: (l: KubernetesListObject<Obj>) => void = () => {};
    let calls = 0;
    const h = setup({
      stallTimeoutMs: 10_000,
      listFn: () => {
        calls++;
        if (calls === 1) return new Promise((resolve) => (release = resolve));
        return Promise.resolve(list('9', obj('fresh', '9')));
      },
    });
    void h.informer.start(); // start() waits for the first list, which hangs here
    await advance(h.clock, 12_000, 1_000);
    expect(calls).toBe(2);
    release(list('3', obj('stale', '3')));
    await flush();
    expect(h.informer.list().map((o) => o.metadata?.name)).toEqual(['fresh']);
  });
});
