import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOnce } from './transport.test-support.ts';
import { trustedRoots } from './transport.ts';

const dir = mkdtempSync(join(tmpdir(), 'rancher-roots-'));
const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** newCa writes a self-signed CA and returns its PEM. */
function newCa(name: string): string {
  const [key, cert] = [join(dir, `${name}.key`), join(dir, `${name}.crt`)];
  openssl(['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`]);
  return readFileSync(cert, 'utf8');
}

/** newLeaf writes a 127.0.0.1 serving pair signed by the named CA. */
function newLeaf(ca: string): { key: string; cert: string } {
  const [key, csr, cert, ext] = ['key', 'csr', 'crt', 'ext'].map((e) => join(dir, `leaf-${ca}.${e}`)) as [
    string,
    string,
    string,
    string,
  ];
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\n');
  openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  openssl([
    ...['x509', '-req', '-in', csr, '-CA', join(dir, `${ca}.crt`), '-CAkey', join(dir, `${ca}.key`)],
    ...['-CAcreateserial', '-out', cert, '-days', '1', '-extfile', ext],
  ]);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

const cas: Record<string, string> = {};
const urls: Record<string, string> = {};
const servers: Server[] = [];

beforeAll(async () => {
  for (const name of ['system', 'private', 'stranger']) {
    cas[name] = newCa(name);
    const server = createServer(newLeaf(name), (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":"collection","data":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    urls[name] = `https://127.0.0.1:${address.port}`;
    servers.push(server);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, caBundle: string, defaultRoots: readonly string[]) =>
  getOnce(url, { caBundle, defaultRoots });

describe('caBundle is trusted in addition to the default roots', () => {
  it('trustedRoots keeps every one of Node’s default roots and appends the bundle', () => {
    const defaults = getCACertificates('default');
    const roots = trustedRoots('BUNDLE');
    expect(roots).toHaveLength(defaults.length + 1);
    expect(roots.slice(0, -1)).toEqual(defaults);
    expect(roots.at(-1)).toBe('BUNDLE');
  });

  it('a server whose CA is only in the caBundle is trusted', async () => {
    expect((await get(urls.private ?? '', cas.private ?? '', [cas.system ?? ''])).status).toBe(200);
  });

  it('a server signed by a default ("system") root is still trusted when a caBundle is set', async () => {
    // The injected default roots stand in for the system store; before the fix the bundle replaced them.
    expect((await get(urls.system ?? '', cas.private ?? '', [cas.system ?? ''])).status).toBe(200);
  });

  it('a server signed by neither is refused with a Transport error that names the remedy', async () => {
    await expect(get(urls.stranger ?? '', cas.private ?? '', [cas.system ?? ''])).rejects.toMatchObject({
      code: 'Transport',
      message:
        'cannot list: TLS certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); add the CA that signed it ' +
        'to the connection’s caBundle or caBundleRef',
    });
  });
});
