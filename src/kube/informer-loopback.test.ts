import { createServer, type ServerResponse } from 'node:http';
import { KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { createResilientInformer, type ResilientInformer } from './informer.ts';
import { GuardedWatch } from './informer-watch.ts';

// A minimal apiserver on loopback: the operator's own watch (openWatch: undici request, NDJSON) talks to it.
type Fake = {
  port: number;
  watches: ServerResponse[];
  watchRequests: string[];
  /** authorizations is the Authorization header of each watch request. */
  authorizations: (string | undefined)[];
  /** rejectTokens answers 401 to a watch that presents one of these bearer tokens. */
  rejectTokens: Set<string>;
  /** watchSockets is the client port of each watch request's connection (equal ports: a reused connection). */
  watchSockets: number[];
  failNextWatches: number;
  close(): Promise<void>;
};

async function startFakeApiserver(): Promise<Fake> {
  const fake: Omit<Fake, 'port' | 'close'> = {
    watches: [],
    watchRequests: [],
    authorizations: [],
    rejectTokens: new Set(),
    watchSockets: [],
    failNextWatches: 0,
  };
  const server = createServer((req, res) => {
    fake.watchRequests.push(req.url ?? '');
    fake.authorizations.push(req.headers.authorization);
    fake.watchSockets.push(req.socket.remotePort ?? 0);
    if (fake.rejectTokens.has(req.headers.authorization?.replace(/^Bearer /, '') ?? '')) {
      res.writeHead(401).end('{"kind":"Status","code":401}');
      return;
    }
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

async function setup(opts: { dispatcher?: Dispatcher; inactivityMs?: number; token?: () => string } = {}) {
  const fake = await startFakeApiserver();
  cleanups.push(fake.close);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${fake.port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const { token } = opts;
  if (token) {
    // A token that changes (like a projected ServiceAccount token) comes from a custom authenticator.
    kubeConfig.addAuthenticator({
      isAuthProvider: () => true,
      applyAuthentication: async (_user, o) => {
        o.headers = { ...o.headers, Authorization: `Bearer ${token()}` };
      },
    });
  }
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
    watch: new GuardedWatch(kubeConfig, opts),
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
    const { fake, informer } = await setup({ dispatcher: agent });
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

  it('joins an event split across chunks, including inside a multi-byte character', async () => {
    const { fake, informer } = await setup();
    await informer.start();
    await until(() => fake.watches.length === 1);
    const named = {
      ...cm('b', '2'),
      metadata: { name: 'b', namespace: 'ns', resourceVersion: '2', labels: { team: 'zürich-日本' } },
    };
    const line = Buffer.from(`${JSON.stringify({ type: 'ADDED', object: named })}\n`);
    // Cut inside the three-byte "日": the decoder must not emit a broken character.
    const cut = line.indexOf(Buffer.from('日')) + 1;
    fake.watches[0]?.write(line.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 30));
    expect(informer.get('b', 'ns')).toBeUndefined();
    fake.watches[0]?.write(line.subarray(cut));
    await until(() => informer.get('b', 'ns') !== undefined);
    expect(informer.get('b', 'ns')?.metadata?.labels?.team).toBe('zürich-日本');
  });

  it('delivers several events that arrive in one chunk, in order', async () => {
    const { fake, informer, seen } = await setup();
    await informer.start();
    await until(() => fake.watches.length === 1);
    const events = ['2', '3', '4'].map((rv) => JSON.stringify({ type: 'MODIFIED', object: cm('a', rv) }));
    fake.watches[0]?.write(`${events.join('\n')}\n`);
    await until(() => seen.length === 4);
    expect(informer.get('a', 'ns')?.metadata?.resourceVersion).toBe('4');
  });

  it('ends a silent watch after the inactivity limit and watches again from the same resourceVersion', async () => {
    const { fake, informer } = await setup({ inactivityMs: 150 });
    await informer.start();
    await until(() => fake.watches.length === 1);
    fake.watches[0]?.write(
      `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } })}\n`,
    );
    await until(() => fake.watches.length === 2, 2_000);
    expect(fake.watchRequests[1]).toContain('resourceVersion=7');
  });

  it('a line that is not JSON ends the watch; the informer starts over and keeps its cache', async () => {
    const { fake, informer } = await setup();
    await informer.start();
    await until(() => fake.watches.length === 1);
    fake.watches[0]?.write('{"type":"MODIFIED","object":\n');
    await until(() => fake.watches.length === 2, 2_000);
    expect(informer.get('a', 'ns')?.metadata?.resourceVersion).toBe('1');
  });

  it('a 401 drops the cached credentials and the watch retries once with a fresh token', async () => {
    // The first token read gives the revoked token, every later one the rotated token.
    let reads = 0;
    const { fake, informer } = await setup({ token: () => (reads++ === 0 ? 'old' : 'new') });
    fake.rejectTokens.add('old');
    await informer.start();
    await until(() => fake.watches.length === 1, 2_000);
    expect(fake.authorizations).toEqual(['Bearer old', 'Bearer new']);
  });
});
