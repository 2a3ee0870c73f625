import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** ServingPair is a PEM key and certificate for a TLS server. */
export interface ServingPair {
  key: string;
  cert: string;
}

/** TestCa is a private CA made with the openssl CLI: its certificate and a way to sign serving pairs. */
export interface TestCa {
  cert: string;
  /** issue signs a serving pair for 127.0.0.1 (and localhost). */
  issue(): ServingPair;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost';

function withDir<T>(fn: (f: (name: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'test-pki-'));
  try {
    return fn((name) => join(dir, name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
const read = (path: string) => readFileSync(path, 'utf8');

/** selfSigned makes a self-signed serving pair for 127.0.0.1 (its certificate is its own CA). */
export function selfSigned(): ServingPair {
  return withDir((f) => {
    openssl([
      ...['req', '-x509', ...EC, '-keyout', f('key'), '-out', f('crt'), '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', SAN],
    ]);
    return { key: read(f('key')), cert: read(f('crt')) };
  });
}

/** createTestCa makes a CA named `name`, valid for a day; its key is kept in memory only. */
export function createTestCa(name: string): TestCa {
  const ca = withDir((f) => {
    openssl([
      'req',
      '-x509',
      ...EC,
      '-keyout',
      f('key'),
      '-out',
      f('crt'),
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ]);
    return { key: read(f('key')), cert: read(f('crt')) };
  });
  return {
    cert: ca.cert,
    issue: () =>
      withDir((f) => {
        writeFileSync(f('ca.key'), ca.key);
        writeFileSync(f('ca.crt'), ca.cert);
        writeFileSync(f('ext'), `${SAN}\n`);
        openssl(['req', '-new', ...EC, '-keyout', f('key'), '-out', f('csr'), '-subj', '/CN=127.0.0.1']);
        openssl([
          ...['x509', '-req', '-in', f('csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key')],
          ...['-CAcreateserial', '-out', f('crt'), '-days', '1', '-extfile', f('ext')],
        ]);
        return { key: read(f('key')), cert: read(f('crt')) };
      }),
  };
}
