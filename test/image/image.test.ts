import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, chown, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createTestNamespace, identityFromRbac, kubectl } from '../control-plane/testing.ts';
import { designManifests } from '../e2e/support/manifests.ts';
import { eventually, waitForCondition } from '../e2e/support/wait.ts';
import { deployRbac, ensureCrds, OPERATOR_NAMESPACE } from '../e2e/support/world.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';

// The operator's container image, built the way test/image/build-image.sh documents (podman, a local Node 24
// base, the project's Dockerfile) and run as deploy/ runs it: uid 65532, read-only root filesystem, no
// capabilities. The container shares the host network, so it reaches the test control plane and the Rancher
// emulator on loopback. If podman cannot build or run here, this fails with the reason: it is never skipped.

const ROOT = join(import.meta.dirname, '..', '..');
const HARDENED = ['--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges'];

type Run = { code: number | null; stdout: string; stderr: string };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let image = '';
let containersConf = '';
const podman = (args: string[]) => run('podman', args, { CONTAINERS_CONF: containersConf });
const tail = (text: string, n = 25) => text.trimEnd().split('\n').slice(-n).join('\n');

beforeAll(async () => {
  const built = await run('bash', [join(ROOT, 'test', 'image', 'build-image.sh')]);
  if (built.code !== 0) {
    throw new Error(`cannot build the image with podman (exit ${built.code}):\n${tail(built.stderr)}`);
  }
  containersConf = built.stdout.match(/^CONTAINERS_CONF=(.+)$/m)?.[1] ?? '';
  image = built.stdout.match(/^IMAGE=(.+)$/m)?.[1] ?? '';
  if (!image || !containersConf)
    throw new Error(`build-image.sh printed no IMAGE/CONTAINERS_CONF:\n${built.stdout}`);
  process.stderr.write(`${tail(built.stderr, 3)}\n`);
}, 900_000);

describe('the container image', () => {
  it('runs as uid 65532 on a read-only root filesystem without capabilities, and answers --help', async () => {
    const inspect = await podman(['image', 'inspect', '--format', '{{.Config.User}}', image]);
    expect(inspect.stdout.trim()).toBe('65532:65532');
    const help = await podman(['run', '--rm', '--network=none', ...HARDENED, image, '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(`${help.stdout}${help.stderr}`).toContain('Usage: rancher-apikey-operator');
    const probe = `
      const fs = require('node:fs');
      let writable = true;
      try { fs.writeFileSync('/app/x', ''); } catch (e) { writable = e.code; }
      const capEff = fs.readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\\s+(\\w+)/m)[1];
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), writable, capEff }));`;
    const self = await podman([
      'run',
      '--rm',
      '--network=none',
      ...HARDENED,
      '--entrypoint',
      'node',
      image,
      '-e',
      probe,
    ]);
    expect(self.code, self.stderr).toBe(0);
    expect(JSON.parse(self.stdout)).toEqual({
      uid: 65532,
      gid: 65532,
      writable: 'EROFS',
      capEff: '0000000000000000',
    });
  });

  it('keeps the runtime lean: no npm cache, no dev dependencies, no compilers', async () => {
    const probe = `
      const fs = require('node:fs');
      const paths = ['/root/.npm', '/app/node_modules/typescript', '/app/node_modules/vitest',
        '/app/node_modules/node', '/app/node_modules/@biomejs', '/app/src', '/usr/bin/gcc', '/usr/bin/cc', '/usr/bin/make'];
      console.log(JSON.stringify({
        present: paths.filter((p) => fs.existsSync(p)),
        deps: fs.readdirSync('/app/node_modules').filter((d) => !d.startsWith('.')).length,
        dist: fs.existsSync('/app/dist/src/main.js'),
        tests: fs.readdirSync('/app/dist/src', { recursive: true }).filter((f) => /\\.test/.test(f)),
        typesAndMaps: fs.readdirSync('/app/node_modules', { recursive: true })
          .filter((f) => /\\.(d\\.[mc]?ts|map)$/.test(f)).length,
      }));`;
    const r = await podman([
      'run',
      '--rm',
      '--network=none',
      '--user=0',
      '--entrypoint',
      'node',
      image,
      '-e',
      probe,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as {
      present: string[];
      deps: number;
      dist: boolean;
      tests: string[];
      typesAndMaps: number;
    };
    expect(seen).toMatchObject({ present: [], dist: true, tests: [], typesAndMaps: 0 });
    expect(seen.deps).toBeGreaterThan(0);
    const size = await podman(['image', 'inspect', '--format', '{{.Size}}', image]);
    process.stderr.write(`image ${image}: ${Math.round(Number(size.stdout) / 2 ** 20)} MiB\n`);
  });
});

describe('the container image against the test control plane', () => {
  const cluster = connect();
  const kc = cluster.kubeConfig();
  let emulator: Emulator;
  let dir = '';
  let container: ChildProcess | undefined;
  const name = `rancher-apikey-image-test-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await ensureCrds();
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
    // Loopback of the host: the container shares the host network.
    emulator = await startEmulator({ host: '127.0.0.1', transitionDelayMs: 20, autoPurgeDelayMs: 600_000 });
    dir = await mkdtemp(join(tmpdir(), 'rancher-apikey-image-'));
  });
  afterAll(async () => {
    if (container && container.exitCode === null) await podman(['rm', '--force', name]);
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('becomes live and ready, makes an ApiKey Ready, and on SIGTERM releases its Lease and exits 0', async () => {
    const ns = await createTestNamespace(kc, 'image');
    const identity = await identityFromRbac(kc, {
      namespace: OPERATOR_NAMESPACE,
      serviceAccount: 'rancher-apikey-operator',
      manifests: await deployRbac(),
    });
    // The kubeconfig is mounted read-only; the container's user must be able to read it.
    const kubeconfig = join(dir, 'kubeconfig');
    await copyFile(identity.kubeconfigPath, kubeconfig);
    if (process.getuid?.() === 0) await chown(kubeconfig, 65532, 65532);
    else await chmod(kubeconfig, 0o644);
    const podName = `image-${randomBytes(3).toString('hex')}`;
    const leaseName = `image-${randomBytes(4).toString('hex')}`;
    const args = ['run', '--rm', `--name=${name}`, '--network=host', ...HARDENED];
    args.push(`--volume=${kubeconfig}:/etc/rancher-apikey-operator/kubeconfig:ro`);
    // As deploy/'s Deployment configures it (ports 0: the host network is shared with other tests).
    const env = {
      KUBECONFIG: '/etc/rancher-apikey-operator/kubeconfig',
      POD_NAME: podName,
      POD_NAMESPACE: OPERATOR_NAMESPACE,
      LEADER_ELECT: 'true',
      LEADER_ELECTION_ID: leaseName,
      WATCH_NAMESPACES: ns,
      HEALTH_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
    };
    for (const [k, v] of Object.entries(env)) args.push(`--env=${k}=${v}`);
    const child = spawn('podman', [...args, image], {
      env: { ...process.env, CONTAINERS_CONF: containersConf },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    container = child;
    const lines: string[] = [];
    const keep = (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const logs = () => tail(lines.join('\n'));

    const port = await eventually(
      'the start line with the probe port',
      async () => {
        if (child.exitCode !== null) throw new Error(`container exited with ${child.exitCode}:\n${logs()}`);
        const m = lines.join('\n').match(/"healthPort":(\d+)/);
        return m ? Number(m[1]) : undefined;
      },
      60_000,
    );
    for (const path of ['/healthz', '/readyz']) {
      await eventually(
        `${path} ok`,
        async () => ((await fetch(`http://127.0.0.1:${port}${path}`)).status === 200 ? true : undefined),
        60_000,
      );
    }
    const applied = await kubectl(['apply', '-f', '-'], { input: designManifests(ns, emulator) });
    expect(applied.code, applied.stderr).toBe(0);
    await waitForCondition(
      kc.makeApiClient(CustomObjectsApi),
      ns,
      'ci-deployer',
      'Ready',
      'True',
      undefined,
      60_000,
    );

    const leases = kc.makeApiClient(CoordinationV1Api);
    const holder = async () =>
      (await leases.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: leaseName })).spec
        ?.holderIdentity ?? '';
    expect(await holder()).toMatch(new RegExp(`^${podName}_`));
    const killed = await podman(['kill', '--signal=SIGTERM', name]);
    expect(killed.code, killed.stderr).toBe(0);
    expect(await exited, logs()).toBe(0);
    expect(await holder()).toBe('');
    expect(lines.join('\n')).toContain('released lease');
    expect(lines.join('\n')).not.toMatch(/"level":(40|50|60)/);
  });
});
