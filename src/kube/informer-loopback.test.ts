import { createServer, type ServerResponse } from 'node:http';
import { KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { createResilientInformer, type ResilientInformer } from './informer.ts';

// A minimal apiserver on loopback: the real client-node Watch (undici fetch, NDJSON) talks to it.
type Fake = {
  port: number;
  watches: ServerResponse[];
  watchRequests: string[];
  /** watchSockets is the client port of each watch request's connection (equal ports: a reused connection). */
  watchSockets: number[];
  failNextWatches: number;
  close(): Promise<void>;
};

async function startFakeApiserver(): Promise<Fake> {
  const fake: Omit<Fake, 'port' | 'close'> = {
    watches: [],
    watchRequests: [],
    watchSockets: [],
    failNextWatches: 0,
  };
  const server = createServer((req, res) => {
    fake.watchRequests.push(req.url ?? '');
    fake.watchSockets.push(req.socket.remotePort ?? 0);
    if (fake.failNextWatches > 0) {
      fake.failNextWatches--;
      res.writeHead(500).end('{"kind":"Status","code":500}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    fake.watches.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return Object.assign(fake, { port, close });
}

const cm = (name: string, rv: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

const until = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(watchDispatcher?: Dispatcher) {
  const fake = await startFakeApiserver();
  cleanups.push(fake.close);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${fake.port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const seen: string[] = [];
  const informer: ResilientInformer<KubernetesObject> = createResilientInformer({
    name: 'configmaps',
    kubeConfig,
    path: '/api/v1/namespaces/ns/configmaps',
    listFn: async (): Promise<KubernetesListObject<KubernetesObject>> => ({
      items: [cm('a', '1')],
      metadata: { resourceVersion: '1' },
    }),
    onAdd: (o) => void seen.push(`add ${o.metadata?.name}`),
    onUpdate: (o) => void seen.push(`update ${o.metadata?.name}`),
    logger: createLogger({ level: 'error', destination: { write: () => undefined } }),
    backoff: { initialMs: 20, maxMs: 100 },
    watchDispatcher,
  });
  cleanups.push(() => informer.stop());
  return { fake, informer, seen };
}

describe('createResilientInformer over a real watch connection', () => {
  it('delivers NDJSON watch events into the cache and handlers', async () => {
    const { fake, informer, seen } = await setup();
    await informer.start();
    await until(() => fake.watches.length === 1);
    expect(fake.watchRequests[0]).toContain('watch=true');
    expect(fake.watchRequests[0]).toContain('resourceVersion=1');
    fake.watches[0]?.write(`${JSON.stringify({ type: 'MODIFIED', object: cm('a', '2') })}\n`);
    fake.watches[0]?.write(`${JSON.stringify({ type: 'ADDED', object: cm('b', '3') })}\n`);
    await until(() => seen.length === 3);
    expect(seen).toEqual(['add a', 'update a', 'add b']);
    expect(informer.get('b', 'ns')?.metadata?.resourceVersion).toBe('3');
  });

  it('restarts after a 500 on watch and does not restart after its own stop', async () => {
    const { fake, informer } = await setup();
    fake.failNextWatches = 2;
    await informer.start();
    await until(() => fake.watches.length === 1);
    expect(fake.watchRequests).toHaveLength(3);
    await informer.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.watchRequests).toHaveLength(3);
  });

  it('asks for bookmarks and a server-side timeout of 5 to 10 minutes', async () => {
    const { fake, informer } = await setup();
    await informer.start();
    await until(() => fake.watches.length === 1);
    const query = new URL(fake.watchRequests[0] ?? '', 'http://x').searchParams;
    expect(query.get('allowWatchBookmarks')).toBe('true');
    expect(Number(query.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);
    expect(Number(query.get('timeoutSeconds'))).toBeLessThan(600);
  });

  it('with a shared dispatcher, watches that follow each other reuse connections instead of opening new ones', async () => {
    const agent = new Agent({ connect: { keepAlive: true } });
    cleanups.push(() => agent.destroy());
    const { fake, informer } = await setup(agent);
    await informer.start();
    // Each server-side end (the watch timeout) makes ListWatch watch again from the same resourceVersion;
    // the ended watch's connection goes back to the pool for a later one. client-node alone builds a new
    // Agent, and so a new connection, for every watch request: 5 watches would use 5.
    // (An event before each end keeps ListWatch from backing off between the watches.)
    for (let i = 1; i <= 4; i++) {
      await until(() => fake.watches.length === i);
      fake.watches[i - 1]?.end(`${JSON.stringify({ type: 'MODIFIED', object: cm('a', String(i + 1)) })}\n`);
    }
    await until(() => fake.watches.length === 5);
    expect(fake.watchRequests[4]).toContain('resourceVersion=5');
    expect(new Set(fake.watchSockets).size).toBeLessThanOrEqual(2);
  });
});
