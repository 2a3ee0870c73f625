import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getOnce } from './transport.test-support.ts';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

/** A Rancher stand-in that answers every GET with a small JSON body and counts requests. */
async function startRancher() {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end('{"type":"collection","data":[]}');
  });
  return { server, seen, url: `http://127.0.0.1:${await listen(server)}` };
}

/** A forward proxy for plain-HTTP calls (absolute-URI requests) that records each target (host:port). */
async function startProxy() {
  const tunnels: string[] = [];
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '');
    tunnels.push(target.host);
    const upstream = request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return { server, tunnels, url: `http://127.0.0.1:${await listen(server)}` };
}

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
const saved = Object.fromEntries(VARIABLES.map((v) => [v, process.env[v]]));
const servers: Server[] = [];

afterEach(async () => {
  for (const v of VARIABLES) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const call = (url: string) => getOnce(url);

describe('Rancher calls through an HTTP proxy (HTTP_PROXY / HTTPS_PROXY / NO_PROXY)', () => {
  it('go through the proxy named by HTTP_PROXY', async () => {
    const rancher = await startRancher();
    const proxy = await startProxy();
    servers.push(rancher.server, proxy.server);
    for (const v of VARIABLES) delete process.env[v];
    process.env.HTTP_PROXY = proxy.url;
    const res = await call(rancher.url);
    expect(res.status).toBe(200);
    expect(proxy.tunnels).toEqual([rancher.url.replace('http://', '')]);
    expect(rancher.seen).toEqual(['/v1/apikeys']);
  });

  it('go straight to Rancher when NO_PROXY matches its host, or when no proxy is set', async () => {
    const rancher = await startRancher();
    const proxy = await startProxy();
    servers.push(rancher.server, proxy.server);
    for (const v of VARIABLES) delete process.env[v];
    await call(rancher.url);
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    await call(rancher.url);
    expect(proxy.tunnels).toEqual([]);
    expect(rancher.seen).toEqual(['/v1/apikeys', '/v1/apikeys']);
  });
});
