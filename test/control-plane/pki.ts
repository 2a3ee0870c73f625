import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pki lists the files `generatePki` writes: CAs, the serving pair, the admin client pair and the SA keys. */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  clientCaCert: string;
  clientCaKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

const VALID_DAYS = '365';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** pkiPaths returns the fixed file names of the PKI in `dir`, so restarts reuse the same certificates. */
export function pkiPaths(dir: string): Pki {
  const f = (name: string) => join(dir, name);
  return {
    dir,
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    servingCert: f('apiserver.crt'),
    servingKey: f('apiserver.key'),
    clientCaCert: f('client-ca.crt'),
    clientCaKey: f('client-ca.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (cause) {
    throw new Error(`cannot run openssl ${args.slice(0, 2).join(' ')}: is the openssl CLI installed?`, {
      cause,
    });
  }
}

/**
 * generatePki writes ECDSA P-256 certificates with `openssl`: a serving CA and an apiserver pair valid for
 * `localhost` and `127.0.0.1`, a client CA and an `admin` client pair in group `system:masters`, and the
 * service-account signing key pair. Certificates are valid for a year.
 */
export async function generatePki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const p = pkiPaths(dir);
  const config = join(dir, 'openssl.cnf');
  // A minimal config so that `req -x509` adds only the extensions we ask for (no default CA:TRUE).
  await writeFile(config, '[req]\ndistinguished_name=dn\n[dn]\n');
  const req = ['req', '-config', config, '-x509', '-new', ...EC_KEY, '-days', VALID_DAYS];
  const caExt = [
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ];
  const leafExt = [
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
  ];
  await Promise.all([
    openssl([...req, '-keyout', p.caKey, '-out', p.caCert, '-subj', '/CN=rancher-apikey-test-ca', ...caExt]),
    openssl([
      ...req,
      '-keyout',
      p.clientCaKey,
      '-out',
      p.clientCaCert,
      '-subj',
      '/CN=rancher-apikey-test-client-ca',
      ...caExt,
    ]),
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p.saKey]),
  ]);
  await Promise.all([
    openssl([
      ...req,
      ...['-CA', p.caCert, '-CAkey', p.caKey, '-keyout', p.servingKey, '-out', p.servingCert],
      ...['-subj', '/CN=localhost', ...leafExt, '-addext', 'extendedKeyUsage=serverAuth'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ]),
    openssl([
      ...req,
      ...['-CA', p.clientCaCert, '-CAkey', p.clientCaKey, '-keyout', p.adminKey, '-out', p.adminCert],
      ...['-subj', '/O=system:masters/CN=admin', ...leafExt, '-addext', 'extendedKeyUsage=clientAuth'],
    ]),
    openssl(['pkey', '-in', p.saKey, '-pubout', '-out', p.saPub]),
  ]);
  return p;
}
