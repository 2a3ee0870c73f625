import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** ComponentNameSchema names the processes of the control plane. */
export const ComponentNameSchema = z.enum(['etcd', 'apiserver', 'controllerManager']);
export type ComponentName = z.infer<typeof ComponentNameSchema>;

/** ProcessRecordSchema is what is needed to find, kill and respawn one component from any process. */
export const ProcessRecordSchema = z.object({
  pid: z.number().int().positive(),
  command: z.string(),
  args: z.array(z.string()),
  logFile: z.string(),
});
export type ProcessRecord = z.infer<typeof ProcessRecordSchema>;

/** StateSchema is the content of `<stateDir>/state.json`, shared by the setup, test workers and the watchdog. */
export const StateSchema = z.object({
  stateDir: z.string(),
  binDir: z.string(),
  server: z.string(),
  etcdUrl: z.string(),
  kubeconfigPath: z.string(),
  kubectlPath: z.string(),
  pki: z.object({ caCert: z.string(), adminCert: z.string(), adminKey: z.string() }),
  processes: z.partialRecord(ComponentNameSchema, ProcessRecordSchema),
  watchdogPid: z.number().int().positive().optional(),
});
export type State = z.infer<typeof StateSchema>;

/** statePath returns the path of the state file in `stateDir`. */
export function statePath(stateDir: string): string {
  return join(stateDir, 'state.json');
}

/** readState parses the state file of `stateDir`; it throws when the file is missing or malformed. */
export function readState(stateDir: string): State {
  const text = readFileSync(statePath(stateDir), 'utf8');
  return StateSchema.parse(JSON.parse(text));
}

/** writeState replaces the state file atomically (write then rename), so readers never see half a file. */
export async function writeState(state: State): Promise<void> {
  const target = statePath(state.stateDir);
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, target);
}
