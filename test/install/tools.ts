// The install tests' tools (helm, promtool), built from their Go modules by test/tools/build-tools.sh into the
// cache next to the test control plane, and the rendered manifests of deploy/ and the Helm chart.
import { execFile, spawn } from 'node:child_process';
import { constants, mkdtempSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAllYaml } from '@kubernetes/client-node';
import { z } from 'zod';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'deploy', 'helm', 'rancher-apikey-operator');
export const OPERATOR_NS = 'rancher-apikey-operator-system';

const BUILD_TOOLS = join(ROOT, 'test', 'tools', 'build-tools.sh');
let toolsBin: string | undefined;

/**
 * tool returns the path of a cached tool. It never builds (a cold build takes many minutes): when the cache
 * does not have the tool it throws, saying how to build it, so the test fails instead of being skipped.
 */
export async function tool(name: 'helm' | 'promtool'): Promise<string> {
  if (toolsBin === undefined) {
    const out = await promisify(execFile)('bash', [BUILD_TOOLS, '--print-dir']);
    const m = out.stdout.match(/^TOOLSBIN=(.+)$/m);
    if (!m?.[1]) throw new Error(`build-tools.sh --print-dir printed no TOOLSBIN: ${out.stdout}`);
    toolsBin = m[1];
  }
  const path = join(toolsBin, name);
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(
      `${name} is not built (no ${path}). Run \`bash test/tools/build-tools.sh\` once: it builds helm and ` +
        'promtool from their Go modules into the cache next to the test control plane (.ci/run does it).',
    );
  }
  return path;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** runTool runs a cached tool; it never throws on a non-zero exit code. */
export async function runTool(
  name: 'helm' | 'promtool',
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const bin = await tool(name);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// Helm keeps its cache, config and data under a temp dir, never in the user's home.
const helmHome = mkdtempSync(join(tmpdir(), 'rancher-apikey-helm-'));
const HELM_ENV = {
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
};

/** helm runs the cached Helm with a private home; `kubeconfig` targets a cluster. */
export function helm(args: string[], kubeconfig?: string): Promise<RunResult> {
  return runTool('helm', kubeconfig ? [...args, '--kubeconfig', kubeconfig] : args, HELM_ENV);
}

export const ObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
});
export type Obj = z.infer<typeof ObjectSchema>;

/** parseObjects parses a multi-document YAML stream (empty documents dropped). */
export function parseObjects(yaml: string): Obj[] {
  const docs: unknown[] = loadAllYaml(yaml);
  return docs.filter((d) => d !== null && d !== undefined).map((d) => ObjectSchema.parse(d));
}

/** helmTemplate renders the chart (CRDs included) as release `rancher-apikey-operator` in `namespace`. */
export async function helmTemplate(setArgs: string[] = [], namespace = OPERATOR_NS): Promise<Obj[]> {
  const sets = setArgs.flatMap((s) => ['--set', s]);
  const r = await helm([
    'template',
    'rancher-apikey-operator',
    CHART,
    '-n',
    namespace,
    '--include-crds',
    ...sets,
  ]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseObjects(r.stdout);
}

/** The labels a Helm release adds to every object; deploy/ does not have them. */
export const HELM_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/version',
];

/** withoutHelmLabels returns a copy of `o` without the labels a Helm release adds. */
export function withoutHelmLabels(o: Obj): Obj {
  const copy = structuredClone(o);
  for (const l of HELM_LABELS) delete copy.metadata.labels?.[l];
  return copy;
}

export const objectId = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** byId sorts objects by kind, namespace and name, for comparing two renders. */
export const byId = (objs: Obj[]) => [...objs].sort((a, b) => objectId(a).localeCompare(objectId(b)));
