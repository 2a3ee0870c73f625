import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRancherClient, RancherApiKeySchema } from '../../src/rancher/index.ts';

let server: Server;
let url: string;
let connections = 0;
let posts = 0;

beforeAll(async () => {
  server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.method === 'POST') posts++;
    const self = `http://${req.headers.host}/v1/apikeys/1c1`;
    const state = req.method === 'POST' ? 'deactivating' : 'active';
    const body = { id: '1c1', state, accountId: '1a1', publicValue: 'P', links: { self }, actions: {} };
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  url = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('keep-alive', () => {
  const credentials = { accessKey: 'A', secretKey: 'S' };

  it('100 sequential calls reuse one or two pooled connections', async () => {
    const client = createRancherClient({ url, version: 'v1', credentials });
    const before = connections;
    for (let i = 0; i < 100; i++) expect((await client.getKey('1c1'))?.id).toBe('1c1');
    expect(connections - before).toBeLessThanOrEqual(2);
    await client.close();
  });

  it('a connection the server closed while idle is replaced, also for a write, without a duplicate', async () => {
    const client = createRancherClient({ url, version: 'v1', credentials, retries: 0 });
    await client.getKey('1c1');
    server.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = { connections, posts };
    const key = RancherApiKeySchema.parse({
      id: '1c1',
      state: 'active',
      accountId: '1a1',
      publicValue: 'P',
      actions: { deactivate: `${url}/v1/apikeys/1c1/?action=deactivate` },
    });
    expect((await client.deactivateKey(key)).state).toBe('deactivating');
    expect({ connections: connections - before.connections, posts: posts - before.posts }).toEqual({
      connections: 1,
      posts: 1,
    });
    await client.close();
  });
});
