// deploy/ and the production artifact against the real control plane: kustomize renders, server-side dry-runs
// (including Pod Security "restricted"), an RBAC audit, and the built operator started with deploy/'s RBAC.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoordinationV1Api, CoreV1Api, dumpYaml, loadAllYaml, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitUntil } from '../control-plane/processes.ts';
import { connect, createTestNamespace, identityFromRbac, kubectl } from '../control-plane/testing.ts';
import { helmTemplate } from '../install/tools.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const OPERATOR_NS = 'rancher-apikey-operator-system';
const RBAC_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const run = promisify(execFile);
const kc = connect().kubeConfig();
const core = kc.makeApiClient(CoreV1Api);

const ObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});
type Obj = z.infer<typeof ObjectSchema>;
const RuleSchema = z.object({
  apiGroups: z.array(z.string()).default([]),
  resources: z.array(z.string()).default([]),
  verbs: z.array(z.string()),
});
const RoleSchema = z.looseObject({ kind: z.string(), rules: z.array(RuleSchema).default([]) });
const EnvSchema = z.array(
  z.object({ name: z.string(), value: z.string().optional(), valueFrom: z.unknown().optional() }),
);
const PodTemplateSchema = z.looseObject({
  metadata: z.looseObject({ labels: z.record(z.string(), z.string()).optional() }).optional(),
  spec: z.looseObject({
    containers: z.array(z.looseObject({ name: z.string(), image: z.string(), env: EnvSchema.default([]) })),
  }),
});
const DeploymentSchema = z.looseObject({ spec: z.looseObject({ template: PodTemplateSchema }) });

async function render(dir: string): Promise<Obj[]> {
  const r = await kubectl(['kustomize', join(ROOT, dir)]);
  if (r.code !== 0) throw new Error(`cannot render ${dir}: ${r.stderr}`);
  const docs: unknown[] = loadAllYaml(r.stdout);
  return docs.map((d) => ObjectSchema.parse(d));
}

const rbacOf = (objs: Obj[]) => objs.filter((o) => RBAC_KINDS.has(o.kind));
const rulesOf = (o: Obj) => RoleSchema.parse(o).rules;
const grants = (o: Obj, resource: string, verb: string) =>
  rulesOf(o).some((r) => r.resources.includes(resource) && r.verbs.includes(verb));

function deploymentOf(objs: Obj[]) {
  const d = objs.find((o) => o.kind === 'Deployment');
  if (d === undefined) throw new Error('no Deployment rendered');
  return DeploymentSchema.parse(d);
}

function watchNamespaces(objs: Obj[]): string[] {
  const env = deploymentOf(objs).spec.template.spec.containers[0]?.env ?? [];
  const value = env.find((e) => e.name === 'WATCH_NAMESPACES')?.value ?? '';
  return value.split(',').filter((n) => n !== '');
}

async function ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
}

async function applyDryRun(objs: Obj[], extra: string[] = []) {
  const input = objs.map((o) => dumpYaml(o)).join('---\n');
  return kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-', ...extra], {
    input,
  });
}

/** retarget moves rendered RBAC into test namespaces and gives cluster-scoped objects unique names. */
function retarget(objs: Obj[], nsMap: Record<string, string>, suffix: string): object[] {
  const ns = (n: string | undefined) => (n === undefined ? undefined : (nsMap[n] ?? n));
  return rbacOf(objs).map((o) => {
    const copy = structuredClone(o) as Obj & {
      roleRef?: { kind: string; name: string };
      subjects?: { namespace?: string }[];
    };
    if (copy.kind.startsWith('Cluster')) copy.metadata.name += suffix;
    copy.metadata.namespace = ns(copy.metadata.namespace);
    if (copy.roleRef?.kind === 'ClusterRole') copy.roleRef.name += suffix;
    for (const s of copy.subjects ?? []) s.namespace = ns(s.namespace);
    return copy;
  });
}

beforeAll(async () => {
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-k', join(ROOT, 'crds')]);
  expect(r.stderr).toBe('');
  const w = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  expect(w.code, w.stderr).toBe(0);
  await ensureNamespace(OPERATOR_NS);
  for (const ns of ['team-a', 'team-b']) await ensureNamespace(ns);
});

describe('deploy/ manifests', () => {
  it('`kubectl apply -k deploy/` renders the CRDs and every operator object in one namespace', async () => {
    const objs = await render('deploy');
    const kinds = objs.map((o) => o.kind).sort();
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(3);
    for (const kind of ['Namespace', 'ServiceAccount', 'Deployment', 'Service', 'PodDisruptionBudget']) {
      expect(kinds).toContain(kind);
    }
    const namespaced = objs.filter((o) => o.metadata.namespace !== undefined);
    expect(new Set(namespaced.map((o) => o.metadata.namespace))).toEqual(new Set([OPERATOR_NS]));
  });

  it.each([
    ['deploy', 'cluster-wide'],
    ['deploy/overlays/namespaced', 'namespaced'],
    ['deploy/overlays/shards', 'two shards'],
  ])('%s (%s) passes a server-side dry-run without Pod Security warnings', async (dir) => {
    const r = await applyDryRun(await render(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/PodSecurity|violate/);
  });

  it('a Pod from the Deployment template is admitted by an enforcing `restricted` namespace', async () => {
    const ns = await createTestNamespace(kc, 'deploy-psa', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    const template = deploymentOf(await render('deploy')).spec.template;
    const pod = (spec: object) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'operator', namespace: ns },
      spec: { ...spec, serviceAccountName: 'default' },
    });
    const admitted = await applyDryRun([pod(template.spec)]);
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stderr).toBe('');
    // Control: the same Pod without its security contexts is refused, so enforcement is really on.
    const bare = { containers: template.spec.containers.map(({ securityContext: _, ...c }) => c) };
    const refused = await applyDryRun([pod(bare)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('violates PodSecurity "restricted:latest"');
  });

  it('the Deployment runs the 0.1.0 image non-root, read-only, with Downward API identity', async () => {
    const template = deploymentOf(await render('deploy')).spec.template;
    const [container] = template.spec.containers;
    expect(container?.image).toBe('rancher-apikey-operator:0.1.0');
    expect(container?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    const fieldRefs = Object.fromEntries(
      (container?.env ?? []).filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom]),
    );
    expect(fieldRefs).toEqual({
      POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
      POD_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });
  });
});

describe('RBAC audit', () => {
  it.each([
    'deploy',
    'deploy/overlays/namespaced',
    'deploy/overlays/consumer-restarts',
    'deploy/overlays/shards',
  ])('%s uses no wildcard and leases only in a Role', async (dir) => {
    for (const o of rbacOf(await render(dir))) {
      if (o.kind !== 'Role' && o.kind !== 'ClusterRole') continue;
      for (const rule of rulesOf(o)) {
        expect([...rule.verbs, ...rule.resources, ...rule.apiGroups], o.metadata.name).not.toContain('*');
        if (rule.resources.includes('leases'))
          expect([o.kind, o.metadata.namespace]).toEqual(['Role', OPERATOR_NS]);
      }
    }
  });

  it('cluster-wide Secret list/watch is granted only by the base ClusterRole', async () => {
    const roles = rbacOf(await render('deploy')).filter((o) => grants(o, 'secrets', 'list'));
    expect(roles.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterRole/rancher-apikey-operator']);
  });

  it('the namespaced overlay lists Secrets only in WATCH_NAMESPACES, each with its Role', async () => {
    const objs = await render('deploy/overlays/namespaced');
    const roles = rbacOf(objs).filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    expect(
      roles.filter(
        (o) => o.kind === 'ClusterRole' && rulesOf(o).some((r) => r.resources.includes('secrets')),
      ),
    ).toEqual([]);
    const listing = roles.filter((o) => grants(o, 'secrets', 'list') || grants(o, 'secrets', 'watch'));
    expect(listing.map((o) => o.metadata.namespace).sort()).toEqual(watchNamespaces(objs).sort());
    const operatorRole = roles.find(
      (o) => o.metadata.namespace === OPERATOR_NS && grants(o, 'secrets', 'get'),
    );
    expect(operatorRole && rulesOf(operatorRole).find((r) => r.resources.includes('secrets'))?.verbs).toEqual(
      ['get'],
    );
  });
});

interface Started {
  child: ChildProcess;
  lines: string[];
  healthPort(): number | undefined;
}

function startArtifact(dir: string, env: Record<string, string>): Started {
  const child = spawn(NODE, ['dist/src/main.js'], {
    cwd: dir,
    // LEADER_ELECT as deploy/'s Deployment sets it (the operator's own default is off).
    env: {
      PATH: process.env.PATH ?? '',
      HEALTH_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'debug',
      LEADER_ELECT: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let port: number | undefined;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lines.push(line);
      const m = line.match(/"healthPort":(\d+)/);
      if (m) port = Number(m[1]);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { child, lines, healthPort: () => port };
}

async function waitReady(op: Started): Promise<void> {
  await waitUntil(
    `/readyz of the built operator (last output: ${op.lines.slice(-5).join('\n')})`,
    async () => {
      const port = op.healthPort();
      if (port === undefined) return false;
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 200, alive: () => op.child.exitCode === null },
  );
}

async function stopArtifact(op: Started): Promise<number | null> {
  if (op.child.exitCode !== null) return op.child.exitCode;
  const exited = new Promise<number | null>((resolve) => op.child.once('exit', (code) => resolve(code)));
  op.child.kill('SIGTERM');
  return exited;
}

describe('production artifact (the Dockerfile runtime layout, without a container engine)', () => {
  let dir = '';
  const running: Started[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rancher-apikey-operator-image-'));
    for (const f of ['package.json', 'package-lock.json']) await copyFile(join(ROOT, f), join(dir, f));
    const npmArgs = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'];
    await run('npm', npmArgs, { cwd: dir, timeout: 240_000 });
    // Build into the temp dir (never the repo's dist/, which other suites may be using).
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(NODE, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], {
      cwd: ROOT,
      timeout: 120_000,
    });
  }, 400_000);

  afterAll(async () => {
    await Promise.all(running.map(stopArtifact));
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('holds production dependencies only, and `--help` exits 0 with the usage', async () => {
    const modules = await readdir(join(dir, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'node', '@biomejs']) expect(modules).not.toContain(dev);
    const { stdout, stderr } = await run(NODE, ['dist/src/main.js', '--help'], { cwd: dir });
    expect(`${stdout}${stderr}`).toContain('Usage: rancher-apikey-operator');
  });

  it('matches the Dockerfile: same production install, entrypoint, user and stop signal', async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('npm ci --omit=dev --ignore-scripts');
    expect(dockerfile).toContain('COPY --from=build /src/dist ./dist');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/src/main.js"]');
    expect(dockerfile).toContain('STOPSIGNAL SIGTERM');
    expect(dockerfile).toMatch(/^FROM node:24|NODE_IMAGE=node:24/m);
    const user = dockerfile.match(/^USER (\d+):(\d+)$/m);
    const podSecurity = deploymentOf(await render('deploy')).spec.template.spec.securityContext;
    expect(podSecurity).toMatchObject({ runAsUser: Number(user?.[1]), runAsGroup: Number(user?.[2]) });
  });

  it('with the cluster-wide RBAC of deploy/, syncs its caches and waits as a standby behind a held Lease', async () => {
    const ns = await createTestNamespace(kc, 'deploy-cluster');
    const rbac = retarget(await render('deploy'), { [OPERATOR_NS]: ns }, `-${ns}`);
    const identity = await identityFromRbac(kc, {
      namespace: ns,
      serviceAccount: 'rancher-apikey-operator',
      manifests: rbac,
    });
    // Another holder keeps the Lease, so this cluster-wide replica never reconciles other suites' objects.
    const now = new V1MicroTime(Date.now());
    await kc.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: 'rancher-apikey-operator' },
        spec: {
          holderIdentity: 'another-replica',
          leaseDurationSeconds: 3600,
          acquireTime: now,
          renewTime: now,
        },
      },
    });
    const op = startArtifact(dir, {
      KUBECONFIG: identity.kubeconfigPath,
      POD_NAME: 'operator-cluster-0',
      POD_NAMESPACE: ns,
      LEASE_DURATION: '1h',
    });
    running.push(op);
    await waitReady(op);
    const can = (...args: string[]) =>
      kubectl(['auth', 'can-i', ...args], { kubeconfig: identity.kubeconfigPath }).then((r) =>
        r.stdout.trim(),
      );
    expect(await can('watch', 'secrets', '--all-namespaces')).toBe('yes');
    expect(await can('update', 'leases', '-n', ns)).toBe('yes');
    expect(await can('update', 'leases', '-n', 'default')).toBe('no');
    expect(await can('delete', 'apikeys.rancher.keyops.dev', '-n', 'default')).toBe('no');
    expect(await can('create', 'pods', '-n', ns)).toBe('no');
    expect(op.lines.join('\n')).not.toMatch(/forbidden|"statusCode":403|"code":403/i);
    expect(await stopArtifact(op)).toBe(0);
  });

  it('with the namespaced overlay RBAC, becomes ready, leads through its Lease Role and stops on SIGTERM', async () => {
    const ns = await createTestNamespace(kc, 'deploy-ns-op');
    const watched = [
      await createTestNamespace(kc, 'deploy-ns-a'),
      await createTestNamespace(kc, 'deploy-ns-b'),
    ];
    const rbac = retarget(
      await render('deploy/overlays/namespaced'),
      { [OPERATOR_NS]: ns, 'team-a': watched[0] ?? '', 'team-b': watched[1] ?? '' },
      `-${ns}`,
    );
    const identity = await identityFromRbac(kc, {
      namespace: ns,
      serviceAccount: 'rancher-apikey-operator',
      manifests: rbac,
    });
    const op = startArtifact(dir, {
      KUBECONFIG: identity.kubeconfigPath,
      POD_NAME: 'operator-ns-0',
      POD_NAMESPACE: ns,
      WATCH_NAMESPACES: watched.join(','),
    });
    running.push(op);
    await waitReady(op);
    const leases = kc.makeApiClient(CoordinationV1Api);
    await waitUntil(
      'the operator to hold its Lease',
      async () =>
        (
          await leases.readNamespacedLease({ namespace: ns, name: 'rancher-apikey-operator' })
        ).spec?.holderIdentity?.startsWith('operator-ns-0_') === true,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const cannot = await kubectl(['auth', 'can-i', 'list', 'secrets', '--all-namespaces'], {
      kubeconfig: identity.kubeconfigPath,
    });
    expect(cannot.stdout.trim()).toBe('no');
    expect(op.lines.join('\n')).not.toMatch(/forbidden|"statusCode":403|"code":403/i);
    const code = await stopArtifact(op);
    expect(code, op.lines.slice(-10).join('\n')).toBe(0);
  });

  it('under the chart RBAC without ClusterRancherConnections (CLUSTER_CONNECTIONS=false), becomes ready with no forbidden call', async () => {
    const ns = await createTestNamespace(kc, 'deploy-nocrc-op');
    const watched = await createTestNamespace(kc, 'deploy-nocrc-a');
    const sets = [`watchNamespaces={${watched}}`, 'clusterRancherConnections.enabled=false'];
    const objs = await helmTemplate([...sets, `fullnameOverride=rao-${ns}`], ns);
    const identity = await identityFromRbac(kc, {
      namespace: ns,
      serviceAccount: `rao-${ns}`,
      manifests: objs.filter((o) =>
        ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind),
      ),
    });
    const can = async (...args: string[]) =>
      (await kubectl(['auth', 'can-i', ...args], { kubeconfig: identity.kubeconfigPath })).stdout.trim();
    expect(await can('list', 'clusterrancherconnections.rancher.keyops.dev')).toBe('no');
    expect(await can('get', 'namespaces')).toBe('no');
    const op = startArtifact(dir, {
      KUBECONFIG: identity.kubeconfigPath,
      POD_NAME: 'operator-nocrc-0',
      POD_NAMESPACE: ns,
      WATCH_NAMESPACES: watched,
      CLUSTER_CONNECTIONS: 'false',
    });
    running.push(op);
    await waitReady(op);
    expect(op.lines.join('\n')).not.toMatch(/forbidden|"statusCode":403|"code":403/i);
    const code = await stopArtifact(op);
    expect(code, op.lines.slice(-10).join('\n')).toBe(0);
  });
});
