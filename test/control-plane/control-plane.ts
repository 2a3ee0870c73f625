import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { buildControlPlane } from './build.ts';
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  etcdUrl,
  type Layout,
  logPath,
  serverUrl,
} from './components.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import {
  ComponentStartError,
  destroyControlPlane,
  type RestartOptions,
  restartComponent,
  startComponent,
} from './lifecycle.ts';
import { generatePki } from './pki.ts';
import { freePort } from './processes.ts';
import { type ComponentName, type State, writeState } from './state.ts';
import { startWatchdog } from './watchdog.ts';

/** ControlPlane is a running etcd + kube-apiserver + kube-controller-manager on loopback. */
export interface ControlPlane {
  kubeconfigPath: string;
  kubectlPath: string;
  server: string;
  stateDir: string;
  binDir: string;
  /** Milliseconds from the first process spawn until everything was ready (excludes the build). */
  startupMs: number;
  kubeConfig(): KubeConfig;
  restartApiserver(opts?: RestartOptions): Promise<void>;
  restartEtcd(opts?: RestartOptions): Promise<void>;
  stop(): Promise<void>;
}

/** StartOptions: `stateDir` (default a fresh dir under /dev/shm), `log` for progress lines, `watchdog` (default on). */
export interface StartOptions {
  stateDir?: string;
  log?: (line: string) => void;
  watchdog?: boolean;
}

const MAX_ATTEMPTS = 5;

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function bootOnce(
  stateDir: string,
  binDir: string,
  opts: StartOptions,
  log: (line: string) => void,
): Promise<State> {
  await mkdir(join(stateDir, 'logs'), { recursive: true });
  const [pki, [etcdPort = 0, etcdPeerPort = 0, apiserverPort = 0]] = await Promise.all([
    generatePki(join(stateDir, 'pki')),
    distinctPorts(3),
  ]);
  const layout: Layout = {
    stateDir,
    binDir,
    pki,
    etcdPort,
    etcdPeerPort,
    apiserverPort,
    adminKubeconfig: join(stateDir, 'admin.kubeconfig'),
  };
  const server = serverUrl(layout);
  await writeKubeconfig(layout.adminKubeconfig, {
    server,
    caFile: pki.caCert,
    user: { certFile: pki.adminCert, keyFile: pki.adminKey },
  });
  let state: State = {
    stateDir,
    binDir,
    server,
    etcdUrl: etcdUrl(layout),
    kubeconfigPath: layout.adminKubeconfig,
    kubectlPath: join(binDir, 'kubectl'),
    pki: { caCert: pki.caCert, adminCert: pki.adminCert, adminKey: pki.adminKey },
    processes: {},
  };
  await writeState(state);
  if (opts.watchdog !== false) {
    state = { ...state, watchdogPid: startWatchdog(stateDir) };
    await writeState(state);
  }
  const steps: [ComponentName, string, string[], string][] = [
    ['etcd', 'etcd', etcdArgs(layout), 'etcd'],
    ['apiserver', 'kube-apiserver', apiserverArgs(layout), 'kube-apiserver'],
    [
      'controllerManager',
      'kube-controller-manager',
      controllerManagerArgs(layout),
      'kube-controller-manager',
    ],
  ];
  for (const [name, binary, args, logName] of steps) {
    const t0 = performance.now();
    state = await startComponent(state, name, join(binDir, binary), args, logPath(layout, logName));
    log(`[control-plane] ${binary} ready after ${Math.round(performance.now() - t0)} ms`);
  }
  return state;
}

function handle(state: State, startupMs: number): ControlPlane {
  const { stateDir, kubeconfigPath } = state;
  return {
    kubeconfigPath,
    kubectlPath: state.kubectlPath,
    server: state.server,
    stateDir,
    binDir: state.binDir,
    startupMs,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    restartApiserver: (opts) => restartComponent(stateDir, 'apiserver', opts),
    restartEtcd: (opts) => restartComponent(stateDir, 'etcd', opts),
    stop: () => destroyControlPlane(stateDir),
  };
}

/**
 * startControlPlane builds the binaries if needed (build.sh, progress through `log`), then starts etcd,
 * kube-apiserver and kube-controller-manager on random loopback ports with a fresh PKI, waits until all
 * serve, and writes an admin kubeconfig. A component that exits during start (e.g. a port race) makes it
 * retry from scratch, up to 5 attempts; a component that hangs fails at once. The error names the
 * component and carries its log tail.
 */
export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binDir = await buildControlPlane(log);
  for (let attempt = 1; ; attempt++) {
    const stateDir = opts.stateDir ?? (await mkdtemp('/dev/shm/rancher-apikey-cp-'));
    const started = performance.now();
    try {
      const state = await bootOnce(stateDir, binDir, opts, log);
      const startupMs = Math.round(performance.now() - started);
      log(`[control-plane] ready in ${(startupMs / 1000).toFixed(1)} s: ${state.server} (state ${stateDir})`);
      return handle(state, startupMs);
    } catch (err) {
      await destroyControlPlane(stateDir);
      const retryable = err instanceof ComponentStartError && err.code === 'EXITED';
      if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
      log(`[control-plane] start attempt ${attempt} failed (${err.component} exited); retrying`);
    }
  }
}
