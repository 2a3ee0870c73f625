import type { TestProject } from 'vitest/node';
import { startControlPlane } from './control-plane.ts';
import type { ProvidedControlPlane } from './provided.ts';

/**
 * Vitest global setup of project `integration`: starts one control plane for the whole run, provides
 * `controlPlane` (see `connect()` in testing.ts) and returns the teardown. It throws, failing the suite,
 * when the control plane cannot be built or started; a detached watchdog cleans up if the runner crashes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let controlPlane: Awaited<ReturnType<typeof startControlPlane>>;
  try {
    controlPlane = await startControlPlane({ log });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `the integration tests need a real control plane, and it could not be started:\n${reason}`,
      {
        cause,
      },
    );
  }
  const provided: ProvidedControlPlane = {
    kubeconfigPath: controlPlane.kubeconfigPath,
    kubectlPath: controlPlane.kubectlPath,
    stateDir: controlPlane.stateDir,
    server: controlPlane.server,
  };
  project.provide('controlPlane', provided);
  return () => controlPlane.stop();
}
