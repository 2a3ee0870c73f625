import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

/** OperatorProcess is the operator running as its own OS process, as it would in a Pod. */
export interface OperatorProcess {
  pid: number;
  /** Every line the process printed (stdout and stderr), for assertions and the secret-leak canary. */
  lines: string[];
  healthPort(): number | undefined;
  metricsPort(): number | undefined;
  waitReady(timeoutMs?: number): Promise<void>;
  metrics(): Promise<string>;
  /** stop sends SIGTERM and waits for a graceful exit. */
  stop(): Promise<number | null>;
  /** kill sends SIGKILL (a crash) and waits until the process is gone. */
  kill(): Promise<void>;
  exited(): Promise<number | null>;
  /** signal is the signal that ended the process (SIGKILL for a crash), or null while it runs or after a plain exit. */
  signal(): NodeJS.Signals | null;
}

/**
 * startOperatorProcess runs `src/main.ts` (or `entry`, for example the built `dist/src/main.js`) under Node 24
 * with the given kubeconfig (an identity built from deploy/ RBAC) and environment; it does not wait for readiness.
 */
export function startOperatorProcess(opts: {
  kubeconfigPath: string;
  env: Record<string, string>;
  entry?: string;
}): OperatorProcess {
  const child: ChildProcess = spawn(NODE, [opts.entry ?? join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: opts.kubeconfigPath,
      HEALTH_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'debug',
      // As deploy/'s Deployment sets it (the operator's own default is off): restarts and standbys take turns.
      LEADER_ELECT: 'true',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let health: number | undefined;
  let metrics: number | undefined;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (process.env.E2E_OPERATOR_LOGS) process.stderr.write(`[operator ${child.pid}] ${line}\n`);
      const m = line.match(/"healthPort":(\d+),"metricsPort":(\d+)/);
      if (m) {
        health = Number(m[1]);
        metrics = Number(m[2]);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    pid: child.pid ?? -1,
    lines,
    healthPort: () => health,
    metricsPort: () => metrics,
    async waitReady(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null)
          throw new Error(`operator exited with ${child.exitCode}:\n${lines.slice(-20).join('\n')}`);
        if (health !== undefined) {
          const r = await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => undefined);
          if (r?.status === 200) return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`operator not ready after ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
    },
    async metrics() {
      const r = await fetch(`http://127.0.0.1:${metrics}/metrics`);
      return r.text();
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exit;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exit;
    },
    exited: () => exit,
    signal: () => child.signalCode,
  };
}
