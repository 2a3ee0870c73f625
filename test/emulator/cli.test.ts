// The standalone CLI: startup lines, a working Rancher at the printed URL, clean exit on SIGTERM, exit 2 on bad flags.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { selfSigned } from './test-pki.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

function readLines(stream: NodeJS.ReadableStream, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      if (lines.length > count) resolve(lines.slice(0, count));
    });
    stream.on('end', () => reject(new Error(`stream ended after: ${buffer}`)));
  });
}

describe('emulator CLI', () => {
  it('prints RANCHER_URL, RANCHER_ACCESS_KEY and RANCHER_SECRET_KEY, serves them, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0', '--transition-delay-ms', '1'], {
      stdio: 'pipe',
    });
    try {
      const [url, access, secret] = await readLines(child.stdout, 3);
      expect(url).toMatch(/^RANCHER_URL=http:\/\/127\.0\.0\.1:\d+$/);
      expect(access).toMatch(/^RANCHER_ACCESS_KEY=[0-9A-F]{20}$/);
      expect(secret).toMatch(/^RANCHER_SECRET_KEY=[A-HJ-NP-Za-km-z1-9]{40}$/);
      const value = (line: string | undefined) => line?.slice(line.indexOf('=') + 1) ?? '';
      const auth = Buffer.from(`${value(access)}:${value(secret)}`).toString('base64');
      const answer = await fetch(`${value(url)}/v1/accounts`, {
        headers: { authorization: `Basic ${auth}` },
      });
      expect(answer.status).toBe(200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('serves HTTPS with --tls-cert and --tls-key and prints an https:// RANCHER_URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-tls-'));
    const pair = selfSigned();
    writeFileSync(join(dir, 'tls.crt'), pair.cert);
    writeFileSync(join(dir, 'tls.key'), pair.key);
    const args = ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')];
    const child = spawn(process.execPath, [CLI, '--port', '0', ...args], { stdio: 'pipe' });
    try {
      const [url] = await readLines(child.stdout, 1);
      expect(url).toMatch(/^RANCHER_URL=https:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([['--port', 'abc'], ['--bogus'], ['--auto-purge-ms', 'soon'], ['--tls-cert', 'only-a-cert.pem']])(
    'rejects %s with a message and exit 2',
    async (...args) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
      });
      const [code] = await once(child, 'exit');
      expect(code).toBe(2);
      expect(stderr).toMatch(/^emulator: [^\n]+[\s\S]*\nusage: /);
    },
  );
});
