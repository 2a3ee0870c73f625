// watchdog.ts <parentPid> <stateDir>: a tiny detached process that tears the control plane down when the
// process that started it is gone (crashed test runner, killed CLI), and exits when the state dir is removed
// by a normal teardown. Started by `startWatchdog`; never imported by tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { destroyControlPlane } from './lifecycle.ts';
import { isAlive } from './processes.ts';

const POLL_MS = 500;

/**
 * startWatchdog spawns a detached watchdog that destroys the control plane in `stateDir` once the current
 * process has exited, and returns its pid (recorded in the state file so that teardown can stop it).
 */
export function startWatchdog(stateDir: string): number {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(process.pid), stateDir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  if (child.pid === undefined) throw new Error('cannot start the control-plane watchdog');
  return child.pid;
}

async function watch(parentPid: number, stateDir: string): Promise<void> {
  while (existsSync(stateDir)) {
    if (!isAlive(parentPid)) {
      await destroyControlPlane(stateDir);
      return;
    }
    await sleep(POLL_MS);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const parentPid = Number(process.argv[2]);
  const stateDir = process.argv[3];
  if (!Number.isInteger(parentPid) || parentPid <= 0 || stateDir === undefined) {
    process.stderr.write('usage: watchdog.ts <parentPid> <stateDir>\n');
    process.exit(2);
  }
  await watch(parentPid, stateDir);
}
