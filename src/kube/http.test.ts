import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeError } from './errors.ts';
import { microTime } from './events.ts';
import { createKubeHttp, KubeHttpError } from './http.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: Server | undefined;
const agent = new Agent();

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** serve answers each request with `answer(seen)` (status and JSON text) and records what it saw. */
async function serve(
  answer: (s: Seen, n: number) => [number, string],
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const s = {
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
    };
    seen.push(s);
    const [status, text] = answer(s, seen.length);
    res.writeHead(status, { 'content-type': 'application/json' }).end(text);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

function kubeConfig(server: string, token: () => string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  // A token that changes (like a projected ServiceAccount token) comes from a custom authenticator.
  kc.addAuthenticator({
    isAuthProvider: () => true,
    applyAuthentication: async (_user, opts) => {
      opts.headers = { ...opts.headers, Authorization: `Bearer ${token()}` };
    },
  });
  return kc;
}

describe('KubeHttp: plain JSON requests to the apiserver', () => {
  it('sends JSON with the kubeconfig credentials under the server path and parses the answer', async () => {
    const s = await serve(() => [201, '{"metadata":{"resourceVersion":"7"}}']);
    const http = createKubeHttp(
      kubeConfig(`${s.url}/prefix/`, () => 't1'),
      agent,
    );
    const out = await http.request('PATCH', '/apis/g/v1/x/y', { a: 1 }, 'application/merge-patch+json');
    expect(out).toEqual({ metadata: { resourceVersion: '7' } });
    expect(s.seen).toEqual([
      {
        method: 'PATCH',
        url: '/prefix/apis/g/v1/x/y',
        authorization: 'Bearer t1',
        contentType: 'application/merge-patch+json',
        body: '{"a":1}',
      },
    ]);
  });

  it('a 401 drops the cached credentials and retries once with fresh ones; a second 401 drops them too', async () => {
    let token = 'old';
    const s = await serve((seen) => (seen.authorization === 'Bearer new' ? [200, '{}'] : [401, '{}']));
    const http = createKubeHttp(
      kubeConfig(s.url, () => token),
      agent,
    );
    await expect(http.request('GET', '/api/v1/namespaces/a/secrets/b')).rejects.toBeInstanceOf(KubeHttpError);
    token = 'new';
    // The retried request's 401 dropped the headers as well, so the next request reads the new token at once.
    await expect(http.request('GET', '/api/v1/namespaces/a/secrets/b')).resolves.toEqual({});
    expect(s.seen.map((x) => x.authorization)).toEqual(['Bearer old', 'Bearer old', 'Bearer new']);
  });

  it('a refusal carries its status code and the Status message, never more than the message', async () => {
    const status = JSON.stringify({ kind: 'Status', message: 'secrets "b" already exists', code: 409 });
    const s = await serve(() => [409, status]);
    const http = createKubeHttp(
      kubeConfig(s.url, () => 't'),
      agent,
    );
    const err = await http
      .request('POST', '/api/v1/namespaces/a/secrets', { data: { k: 'c2VjcmV0' } })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 409 });
    const wrapped = new KubeError('create Secret a/b', err);
    expect(wrapped.code).toBe('Conflict');
    expect(wrapped.message).toBe('cannot create Secret a/b: 409 Conflict: secrets "b" already exists');
    expect(wrapped.message).not.toContain('c2VjcmV0');
  });
});

describe('microTime', () => {
  it('writes six fractional digits, as the apiserver parses a MicroTime', () => {
    expect(microTime(Date.UTC(2026, 11, 3, 12, 0, 1, 234))).toBe('2026-12-03T12:00:01.234000Z');
  });
});
