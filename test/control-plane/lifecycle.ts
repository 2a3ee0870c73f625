import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForApiserver, waitForControllerManager, waitForEtcd } from './probes.ts';
import { isAlive, killGroupsNow, spawnDetached, stopProcess, tailFile } from './processes.ts';
import { type ComponentName, type ProcessRecord, readState, type State, writeState } from './state.ts';

/** ComponentStartError says that a component did not become ready; `code` tells a crash from a hang. */
export class ComponentStartError extends Error {
  readonly code: 'EXITED' | 'TIMEOUT';
  readonly component: ComponentName;
  constructor(component: ComponentName, exited: boolean, message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'ComponentStartError';
    this.code = exited ? 'EXITED' : 'TIMEOUT';
    this.component = component;
  }
}

/** RestartOptions tune a restart: how long the component stays down, and whether it is killed (crash). */
export interface RestartOptions {
  downMs?: number;
  crash?: boolean;
}

/**
 * waitForComponent resolves once the component `name` with process `pid` serves (etcd `/health`,
 * apiserver `/readyz`, controller manager doing work); on failure the error carries its log tail.
 */
export async function waitForComponent(
  state: State,
  name: ComponentName,
  record: ProcessRecord,
): Promise<void> {
  try {
    if (name === 'etcd') await waitForEtcd(state.etcdUrl, record.pid);
    else if (name === 'apiserver') await waitForApiserver(state.server, state.pki, record.pid);
    else await waitForControllerManager(state.server, state.pki, record.pid);
  } catch (cause) {
    const log = tailFile(record.logFile);
    const message = cause instanceof Error ? cause.message : String(cause);
    const text = `cannot start ${name}: ${message}\n--- last lines of ${record.logFile} ---\n${log}`;
    throw new ComponentStartError(name, !isAlive(record.pid), text, cause);
  }
}

/**
 * startComponent spawns `command args` for `name`, records it in the state file before waiting (so that
 * teardown finds it even if readiness fails), waits until it serves and returns the updated state.
 */
export async function startComponent(
  state: State,
  name: ComponentName,
  command: string,
  args: string[],
  logFile: string,
): Promise<State> {
  const record = spawnDetached(command, args, logFile);
  const next: State = { ...state, processes: { ...state.processes, [name]: record } };
  await writeState(next);
  await waitForComponent(next, name, record);
  return next;
}

/**
 * restartComponent stops component `name` of the control plane in `stateDir` (SIGTERM, or SIGKILL when
 * `crash`), keeps it down for `downMs`, starts it again with the same argv (same ports, certificates and
 * data dir) and waits until it serves; after an etcd restart it also waits for the apiserver's `/readyz`.
 * Callable from any process on the machine, e.g. a vitest worker.
 */
export async function restartComponent(
  stateDir: string,
  name: ComponentName,
  opts: RestartOptions = {},
): Promise<void> {
  const state = readState(stateDir);
  const record = state.processes[name];
  if (record === undefined) throw new Error(`cannot restart ${name}: it is not in ${stateDir}/state.json`);
  await stopProcess(record.pid, opts.crash ? 'SIGKILL' : 'SIGTERM');
  if (opts.downMs !== undefined && opts.downMs > 0) await sleep(opts.downMs);
  const next = await startComponent(state, name, record.command, record.args, record.logFile);
  const apiserver = next.processes.apiserver;
  if (name === 'etcd' && apiserver !== undefined) await waitForComponent(next, 'apiserver', apiserver);
}

/**
 * destroyControlPlane kills every process group recorded in `stateDir` (and the watchdog) with SIGKILL
 * and removes the state dir. Safe to call twice and with a missing or partial state file.
 */
export async function destroyControlPlane(stateDir: string): Promise<void> {
  try {
    const state = readState(stateDir);
    const pids = Object.values(state.processes).map((p) => p.pid);
    killGroupsNow(pids);
    if (state.watchdogPid !== undefined && state.watchdogPid !== process.pid)
      killGroupsNow([state.watchdogPid]);
    // Wait for the components so that tmpfs space and ports are released before returning.
    await Promise.all(pids.map((pid) => stopProcess(pid, 'SIGKILL', 5_000)));
  } catch {
    // no or unreadable state: nothing was started, only remove the directory
  }
  await rm(stateDir, { recursive: true, force: true });
}
