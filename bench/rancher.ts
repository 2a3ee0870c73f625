import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { DEFAULT_PROJECT_ID, type RequestCounts, startEmulator } from '../test/emulator/index.ts';
import { ROOT } from './cluster.ts';

/** BenchRancher is the Rancher emulator as the benchmark sees it, wherever it runs. */
export interface BenchRancher {
  url: string;
  admin: { accessKey: string; secretKey: string };
  environmentId: string;
  /** pid is the emulator's process when it runs as one (for the CPU breakdown); absent in-process. */
  pid?: number;
  /** keys returns id and state of every key (purged ones included). */
  keys(): Promise<{ id: string; state: string }[]>;
  requests(): Promise<RequestCounts>;
  resetRequests(): Promise<void>;
  close(): Promise<void>;
}

const EMULATOR = { transitionDelayMs: 20, autoPurgeDelayMs: 600_000 };
const CountsSchema = z.object({
  total: z.number(),
  writes: z.number(),
  reads: z.number(),
  byRoute: z.record(z.string(), z.number()),
});
const KeysSchema = z.array(z.object({ id: z.string(), state: z.string() }));

/** startRancherInProcess runs the emulator on this process's event loop (shared with the benchmark's client). */
export async function startRancherInProcess(latencyMs: number): Promise<BenchRancher> {
  const emulator = await startEmulator(EMULATOR);
  if (latencyMs > 0) emulator.setFault({ kind: 'latency', latencyMs });
  return {
    url: emulator.url,
    admin: emulator.admin,
    environmentId: emulator.environments[0]?.id ?? DEFAULT_PROJECT_ID,
    keys: async () => emulator.keys(),
    requests: async () => emulator.requests(),
    resetRequests: async () => emulator.resetRequests(),
    close: () => emulator.close(),
  };
}

async function readCredentials(child: ChildProcess): Promise<Record<string, string>> {
  const stdout = child.stdout;
  if (!stdout) throw new Error('the emulator process has no stdout');
  const values: Record<string, string> = {};
  const lines = createInterface({ input: stdout });
  for await (const line of lines) {
    const m = /^(RANCHER_[A-Z_]+)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) values[m[1]] = m[2];
    if (values.RANCHER_URL && values.RANCHER_ACCESS_KEY && values.RANCHER_SECRET_KEY) break;
  }
  stdout.resume(); // keep draining its periodic summary lines
  return values;
}

/**
 * startRancherProcess runs the emulator as its own process (`test/emulator/cli.ts`, as `npm run emulator`),
 * so Rancher's latency does not depend on how busy the benchmark's own event loop is; it is inspected and
 * configured over its HTTP inspection API.
 */
export async function startRancherProcess(latencyMs: number): Promise<BenchRancher> {
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'node'),
    [
      join(ROOT, 'test', 'emulator', 'cli.ts'),
      `--transition-delay-ms=${EMULATOR.transitionDelayMs}`,
      `--auto-purge-ms=${EMULATOR.autoPurgeDelayMs}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const creds = await readCredentials(child);
  const url = creds.RANCHER_URL;
  const accessKey = creds.RANCHER_ACCESS_KEY;
  const secretKey = creds.RANCHER_SECRET_KEY;
  if (!url || !accessKey || !secretKey) {
    child.kill('SIGKILL');
    throw new Error('the emulator process did not print its URL and admin key');
  }
  const inspect = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const r = await fetch(`${url}/__emulator/${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!r.ok) throw new Error(`emulator inspection ${method} ${path}: HTTP ${r.status}`);
    return r.json();
  };
  if (latencyMs > 0) await inspect('POST', 'faults', { kind: 'latency', latencyMs });
  return {
    url,
    admin: { accessKey, secretKey },
    environmentId: DEFAULT_PROJECT_ID,
    ...(child.pid ? { pid: child.pid } : {}),
    keys: async () => KeysSchema.parse(await inspect('GET', 'keys')),
    requests: async () => CountsSchema.parse(await inspect('GET', 'requests')),
    resetRequests: async () => void (await inspect('POST', 'requests/reset')),
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
