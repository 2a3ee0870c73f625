// Every manifest under examples/ passes the real apiserver's CRD validation (OpenAPI + CEL), as written and
// with its placeholders filled in the way the dev script does.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect, kubectl } from '../control-plane/testing.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
const core = connect().kubeConfig().makeApiClient(CoreV1Api);

const dryRun = (input: string) =>
  kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], { input });

/** fill replaces the documented placeholders, as a dev script does for the emulator. */
const fill = (text: string) =>
  text
    .replaceAll('http://rancher.example.com', 'http://127.0.0.1:41234')
    .replaceAll('<admin access key>', 'AAAAAAAAAAAAAAAAAAAA')
    .replaceAll('<admin secret key>', 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS');

beforeAll(async () => {
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-k', join(ROOT, 'crds')]);
  expect(r.code, r.stderr).toBe(0);
  const w = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  expect(w.code, w.stderr).toBe(0);
  for (const name of ['team-a', 'team-b', 'rancher-apikey-operator-system']) {
    await core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }
});

describe('examples/', () => {
  it('holds the six documented examples', () => {
    expect(files).toEqual([
      '01-credentials-and-connection.yaml',
      '02-apikey-minimal.yaml',
      '03-apikey-environment.yaml',
      '04-cluster-connection.yaml',
      '05-apikey-inactive-orphan.yaml',
      '06-apikey-secret-template.yaml',
    ]);
  });

  it.each(files)('%s passes CRD validation as written and with placeholders filled', async (file) => {
    const text = await readFile(join(EXAMPLES, file), 'utf8');
    expect(text.startsWith('#'), 'starts with a comment that explains it').toBe(true);
    for (const input of [text, fill(text)]) {
      const r = await dryRun(input);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
  });

  it('placeholders are only the documented ones', async () => {
    for (const file of files) {
      const text = fill(await readFile(join(EXAMPLES, file), 'utf8'));
      expect(text, file).not.toMatch(/<[a-z ]+>|rancher\.example\.com/);
    }
  });

  it('the apiserver really validates: a broken example is refused with the CRD message', async () => {
    const text = await readFile(join(EXAMPLES, '03-apikey-environment.yaml'), 'utf8');
    const r = await dryRun(text.replace('url: endpoint', 'url: username'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('must be three different data keys');
  });
});
