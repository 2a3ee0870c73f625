import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

// The layering rules of .dependency-cruiser.cjs (run by `npm run lint`) are proven to fail on planted
// violations in a scratch tree shaped like src/, and to pass on the real one.

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const run = promisify(execFile);
let scratch: string | undefined;

afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'src', '--config', CONFIG], { cwd });
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** plant writes files (path -> source) into a scratch tree with a tsconfig, and cruises it. */
async function plant(files: Record<string, string>) {
  scratch = mkdtempSync(join(tmpdir(), 'layers-'));
  writeFileSync(join(scratch, 'tsconfig.json'), '{"compilerOptions":{"allowImportingTsExtensions":true}}');
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), source);
  }
  return cruise(scratch);
}

// Each case starts dependency-cruiser in its own process (seconds on a busy 2-core machine).
describe('layering rules (npm run lint)', { timeout: 60_000 }, () => {
  it('the real src/ has no violation', async () => {
    const r = await cruise(ROOT);
    expect(r.out).toMatch(/no dependency violations found \([1-9]\d* modules/);
    expect(r.code).toBe(0);
  });

  it.each([
    ['machinery-below-controllers', 'src/kube/informer.ts', "import { x } from '../controller/result.ts';"],
    ['machinery-below-controllers', 'src/runtime/queue.ts', "import { x } from '../operator/operator.ts';"],
    ['rancher-is-an-adapter', 'src/rancher/client.ts', "import { x } from '../kube/client.ts';"],
    ['api-is-the-contract', 'src/api/apikey.ts', "import { x } from '../controller/result.ts';"],
    ['controllers-below-wiring', 'src/controller/result.ts', "import { x } from '../operator/operator.ts';"],
    ['main-is-wiring-only', 'src/main.ts', "import { x } from './controller/result.ts';"],
    [
      'test-support-stays-in-tests',
      'src/kube/client.ts',
      "import { x } from '../runtime/fake.test-support.ts';",
    ],
  ])('%s fails on %s importing across the layer', async (rule, from, source) => {
    const targets = {
      'src/controller/result.ts': 'export const x = 1;',
      'src/operator/operator.ts': 'export const x = 1;',
      'src/kube/client.ts': 'export const x = 1;',
      'src/runtime/fake.test-support.ts': 'export const x = 1;',
    };
    const r = await plant({ ...targets, [from]: `${source}\nexport const y = x;\n` });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(rule);
  });

  it('an import cycle fails', async () => {
    const r = await plant({
      'src/controller/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
      'src/controller/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('no-circular');
  });
});
