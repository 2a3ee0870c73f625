import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRancherClient } from '../../src/rancher/index.ts';

let server: Server;
let url: string;
let ca: string;
let seenAuth: string | undefined;

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rancher-tls-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  const pair = selfSigned();
  ca = pair.cert;
  server = createServer(pair, (req, res) => {
    seenAuth = req.headers.authorization;
    const self = `https://${req.headers.host}/v1/apikeys/1c1`;
    const body = {
      id: '1c1',
      type: 'apiKey',
      state: 'active',
      transitioning: 'no',
      accountId: '1a1',
      publicValue: 'P',
      links: { self },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  url = `https://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

// openssl is a hard requirement of the test bed (the control plane's certificates need it too): no skip.
describe('TLS', () => {
  const credentials = { accessKey: 'ACCESS', secretKey: 'SECRET' };

  it('trusts a self-signed server through caBundle and sends HTTP Basic', async () => {
    const client = createRancherClient({ url, version: 'v1', credentials, caBundle: ca });
    expect(await client.getKey('1c1')).toMatchObject({ id: '1c1', state: 'active' });
    expect(seenAuth).toBe(`Basic ${Buffer.from('ACCESS:SECRET').toString('base64')}`);
    await client.close();
  });

  it('refuses the same server without the CA bundle with a Transport error', async () => {
    const client = createRancherClient({ url, version: 'v1', credentials, retries: 0 });
    await expect(client.getKey('1c1')).rejects.toMatchObject({ code: 'Transport' });
    await client.close();
  });
});
