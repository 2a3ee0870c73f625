// `npm run control-plane`: start a throwaway control plane and keep it running until SIGINT/SIGTERM.
import { fileURLToPath } from 'node:url';
import { type ControlPlane, type StartOptions, startControlPlane } from './control-plane.ts';

/**
 * runControlPlaneUntilSignal starts a control plane, prints `KUBECONFIG=<path>` and `KUBECTL=<path>` on
 * stdout (each on its own line) once it is ready, calls `onReady` (e.g. a dev script starting the
 * operator), and stops and removes it on SIGINT/SIGTERM, resolving after the cleanup.
 */
export async function runControlPlaneUntilSignal(
  opts: StartOptions & { onReady?: (cp: ControlPlane) => Promise<void> | void } = {},
): Promise<void> {
  const controlPlane = await startControlPlane(opts);
  process.stdout.write(`KUBECONFIG=${controlPlane.kubeconfigPath}\nKUBECTL=${controlPlane.kubectlPath}\n`);
  // Signal listeners do not keep the event loop alive; this timer does, until a signal arrives.
  const keepAlive = setInterval(() => undefined, 60_000);
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  try {
    await opts.onReady?.(controlPlane);
    const signal = await stopped;
    process.stderr.write(`[control-plane] ${signal}: stopping\n`);
  } finally {
    clearInterval(keepAlive);
    await controlPlane.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await runControlPlaneUntilSignal();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
