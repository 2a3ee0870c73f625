import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { ROOT } from './cluster.ts';

const NODE = join(ROOT, 'node_modules', '.bin', 'node');

/** BuiltOperator is the operator compiled like the image (`npm run build`), into a directory of its own. */
export interface BuiltOperator {
  dir: string;
  main: string;
  remove(): Promise<void>;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}${out}`)),
    );
  });
}

/**
 * buildOperator compiles src/ with tsconfig.build.json (the image's build) into dist/bench-<id>/, so runs of
 * the benchmark side by side never overwrite each other's build; node_modules resolve from the repository.
 */
export async function buildOperator(id: string): Promise<BuiltOperator> {
  const dir = join(ROOT, 'dist', `bench-${id}`);
  await run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', dir]);
  return { dir, main: join(dir, 'src', 'main.js'), remove: () => rm(dir, { recursive: true, force: true }) };
}

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => join(e.parentPath, e.name));
}

const BUILTINS = new Set(builtinModules);
// Static imports and re-exports that bind values (TypeScript erased the type-only ones) and dynamic imports.
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** runtimeImports lists the package specifiers (not relative paths, not node: builtins) the built code imports. */
export async function runtimeImports(dir: string): Promise<string[]> {
  const found = new Set<string>();
  for (const file of await jsFiles(dir)) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec || spec.startsWith('.') || spec.startsWith('node:') || BUILTINS.has(spec)) continue;
      found.add(spec);
    }
  }
  return [...found].sort();
}

/** Floor is the memory of a process that only imported the operator's runtime dependencies (after a full GC). */
export interface Floor {
  rssMiB: number;
  heapUsedMiB: number;
  imports: string[];
}

/** measureFloor runs bench/dependency-floor.mjs with the Deployment's tuning and the built code's imports. */
export async function measureFloor(built: BuiltOperator, tuning: Record<string, string>): Promise<Floor> {
  const imports = await runtimeImports(built.dir);
  const out = await run(NODE, ['--expose-gc', join(ROOT, 'bench', 'dependency-floor.mjs'), ...imports], {
    ...tuning,
    NODE_ENV: 'production',
  });
  const m = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { vmRssKiB?: number; heapUsed?: number };
  return {
    rssMiB: (m.vmRssKiB ?? Number.NaN) / 1024,
    heapUsedMiB: (m.heapUsed ?? Number.NaN) / 2 ** 20,
    imports,
  };
}

// The Deployment's process tuning: V8 flags and glibc allocator settings, the variables that change memory.
const TUNING = /^(NODE_OPTIONS|MALLOC_\w+)$/;

/**
 * deployedTuning returns the literal NODE_OPTIONS and MALLOC_* variables of deploy/base/deployment.yaml, so
 * the benchmark's operator runs with exactly the memory settings a cluster gets.
 */
export async function deployedTuning(): Promise<Record<string, string>> {
  const text = await readFile(join(ROOT, 'deploy', 'base', 'deployment.yaml'), 'utf8');
  const env: Record<string, string> = {};
  for (const doc of loadAllYaml(text) as {
    spec?: { template?: { spec?: { containers?: Container[] } } };
  }[]) {
    for (const c of doc?.spec?.template?.spec?.containers ?? []) {
      for (const e of c.env ?? [])
        if (TUNING.test(e.name) && typeof e.value === 'string') env[e.name] = e.value;
    }
  }
  if (!env.NODE_OPTIONS) throw new Error('deploy/base/deployment.yaml sets no NODE_OPTIONS');
  return env;
}

type Container = { env?: { name: string; value?: unknown }[] };
