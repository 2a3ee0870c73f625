import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessRecord } from './state.ts';

/** freePort asks the kernel for an unused loopback TCP port (it may be taken again before use; callers retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('cannot allocate a free port'))));
    });
  });
}

/**
 * spawnDetached starts `command args` in its own process group with stdout and stderr appended to
 * `logFile`, so that any process (not only the parent) can kill the whole group and the child outlives a
 * crashed parent only until the watchdog reaps it. Returns the record to store in the state file.
 */
export function spawnDetached(command: string, args: string[], logFile: string): ProcessRecord {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: process.env });
    child.on('error', () => undefined); // reported through isAlive/readiness; never crash the runner
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${command}`);
    return { pid: child.pid, command, args, logFile };
  } finally {
    closeSync(fd);
  }
}

/** isAlive reports whether `pid` exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * stopProcess sends `signal` to the process group of `pid`, waits up to `graceMs` for the leader to exit,
 * then SIGKILLs the group and waits for it to disappear.
 */
export async function stopProcess(
  pid: number,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<void> {
  signalGroup(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(20);
  }
}

/** killGroupsNow SIGKILLs the process groups of `pids` without waiting (for teardown paths that must not block). */
export function killGroupsNow(pids: number[]): void {
  for (const pid of pids) signalGroup(pid, 'SIGKILL');
}

/** tailFile returns the last `lines` lines of a log file, or an empty string if it cannot be read. */
export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * waitUntil polls `check` every `intervalMs` until it returns true, and throws an error naming `what` after
 * `timeoutMs`; `alive` (optional) aborts early when the process being waited for has died.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (opts.alive && !opts.alive()) throw new Error(`${what}: the process exited`);
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(opts.intervalMs ?? 100);
  }
  const reason = last instanceof Error ? `; last error: ${last.message}` : '';
  throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${reason}`);
}
