// `npm run dev`: a local sandbox for newcomers. It starts the test control plane and the Rancher emulator,
// installs the CRDs and examples/, runs the operator from source with exactly deploy/'s RBAC, waits until every
// example ApiKey is Ready, proves a Secret authenticates, and prints what to try next. It never touches
// ~/.kube/config: everything uses the sandbox's own kubeconfig.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, loadAllYaml } from '@kubernetes/client-node';
import { runControlPlaneUntilSignal } from '../test/control-plane/cli.ts';
import type { ControlPlane } from '../test/control-plane/control-plane.ts';
import { identityFromRbac } from '../test/control-plane/identity.ts';
import { startEmulator } from '../test/emulator/index.ts';

const ROOT = join(import.meta.dirname, '..');
const OPERATOR_NS = 'rancher-apikey-operator-system';
const say = (s: string) => process.stdout.write(`[dev] ${s}\n`);
/** Cleanups run once the control plane has stopped (after Ctrl-C), in reverse order. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];

function kubectl(cp: ControlPlane, args: string[], input?: string): string {
  const r = spawnSync(cp.kubectlPath, [`--kubeconfig=${cp.kubeconfigPath}`, ...args], {
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function waitReady(
  custom: CustomObjectsApi,
  ns: string,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const o = (await custom
      .getNamespacedCustomObject({
        group: 'rancher.keyops.dev',
        version: 'v1alpha1',
        plural: 'apikeys',
        namespace: ns,
        name,
      })
      .catch(() => undefined)) as
      | { status?: { conditions?: { type: string; status: string }[] } }
      | undefined;
    if (o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`ApiKey ${ns}/${name} did not become Ready within ${timeoutMs / 1000}s`);
}

async function onReady(cp: ControlPlane): Promise<void> {
  const emulator = await startEmulator({ transitionDelayMs: 50, autoPurgeDelayMs: 60_000 });
  cleanups.push(() => emulator.close());
  say(`Rancher emulator at ${emulator.url} (admin access key ${emulator.admin.accessKey})`);
  kubectl(cp, ['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  kubectl(cp, ['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')]);
  for (const ns of [OPERATOR_NS, 'team-a']) kubectl(cp, ['create', 'namespace', ns]);
  kubectl(cp, ['label', 'namespace', 'team-a', 'rancher.keyops.dev/shared-rancher=allowed']);
  say('installed the CRDs and namespaces team-a and rancher-apikey-operator-system');

  const rbac = loadAllYaml(kubectl(cp, ['kustomize', join(ROOT, 'deploy')])).filter((d: { kind?: string }) =>
    ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(d.kind ?? ''),
  );
  const kc = cp.kubeConfig();
  const identity = await identityFromRbac(kc, {
    namespace: OPERATOR_NS,
    serviceAccount: 'rancher-apikey-operator',
    manifests: rbac,
    dir: join(cp.stateDir, 'identities'),
  });
  const operator = spawn(join(ROOT, 'node_modules', '.bin', 'node'), [join(ROOT, 'src', 'main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: identity.kubeconfigPath,
      POD_NAMESPACE: OPERATOR_NS,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      HEALTH_PORT: '0',
      METRICS_PORT: '0',
      DRIFT_CHECK_INTERVAL: '30s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (b: Buffer) => logs.push(...b.toString().split('\n').filter(Boolean));
  operator.stdout.on('data', keep);
  operator.stderr.on('data', keep);
  const exited = new Promise((r) => operator.once('exit', r));
  cleanups.push(() => {
    operator.kill('SIGTERM');
    return exited;
  });
  say(
    `operator started from source (pid ${operator.pid}) as ServiceAccount ${OPERATOR_NS}/rancher-apikey-operator`,
  );

  const examples = readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const file of examples) {
    const text = readFileSync(join(ROOT, 'examples', file), 'utf8')
      .replaceAll('http://rancher.example.com', emulator.url)
      .replaceAll('<admin access key>', emulator.admin.accessKey)
      .replaceAll('<admin secret key>', emulator.admin.secretKey);
    kubectl(cp, ['apply', '-f', '-'], text);
    say(`applied examples/${file}`);
  }
  const custom = kc.makeApiClient(CustomObjectsApi);
  const keys = examples.flatMap((file) =>
    loadAllYaml(readFileSync(join(ROOT, 'examples', file), 'utf8'))
      .filter((d: { kind?: string }) => d.kind === 'ApiKey')
      .map((d: { metadata: { name: string; namespace: string } }) => d.metadata),
  );
  try {
    for (const k of keys) {
      await waitReady(custom, k.namespace, k.name);
      say(`ApiKey ${k.namespace}/${k.name} is Ready`);
    }
  } catch (err) {
    process.stderr.write(`${logs.slice(-30).join('\n')}\n`);
    throw err;
  }
  const first = keys[0];
  if (first) {
    const core = kc.makeApiClient(CoreV1Api);
    const out = (await custom.getNamespacedCustomObject({
      group: 'rancher.keyops.dev',
      version: 'v1alpha1',
      plural: 'apikeys',
      namespace: first.namespace,
      name: first.name,
    })) as { status?: { secretName?: string } };
    const secret = await core.readNamespacedSecret({
      namespace: first.namespace,
      name: out.status?.secretName ?? first.name,
    });
    const d = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString();
    const auth = Buffer.from(`${d('publicValue')}:${d('secretValue')}`).toString('base64');
    const r = await fetch(`${emulator.url}/v1/apikeys?limit=1`, {
      headers: { authorization: `Basic ${auth}` },
    });
    say(
      `Secret ${first.namespace}/${secret.metadata?.name} authenticates against the emulator: HTTP ${r.status}`,
    );
  }
  say('Try next (this shell only; your own kubeconfig is untouched):');
  process.stdout.write(
    [
      `  export KUBECONFIG=${cp.kubeconfigPath}`,
      `  alias kubectl=${cp.kubectlPath}`,
      '  kubectl get apikeys,rancherconnections -A',
      '  kubectl describe apikey -n team-a ci-deployer',
      '  kubectl patch apikey -n team-a ci-deployer --type merge -p \'{"spec":{"state":"Inactive"}}\'',
      '  kubectl delete secret -n team-a ci-deployer-rancher   # watch the operator replace the key',
      `  curl -s ${emulator.url}/__emulator/keys               # every key the emulator holds`,
      '  kubectl delete apikey -n team-a ci-deployer            # retires the key (deletionPolicy Purge)',
      'Press Ctrl-C to stop everything.',
      '',
    ].join('\n'),
  );
}

async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
}

runControlPlaneUntilSignal({ log: (s) => process.stderr.write(`${s}\n`), onReady })
  .then(async () => {
    await cleanup();
    say('stopped');
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    process.stderr.write(`[dev] ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanup();
    process.exit(1);
  });
