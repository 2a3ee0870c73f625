import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('./build.sh', import.meta.url));

/**
 * buildControlPlane runs `build.sh` (a cache hit takes < 1 s; a cold build 10-25 min), passes each of its
 * progress lines to `log`, and resolves to the directory holding etcd, kube-apiserver,
 * kube-controller-manager and kubectl. It rejects with the script's last output lines when the build fails.
 */
export function buildControlPlane(log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    const recent: string[] = [];
    let stdout = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log(line);
        recent.push(line);
        if (recent.length > 30) recent.shift();
      }
    });
    child.on('error', (cause) => reject(new Error(`cannot run ${BUILD_SCRIPT}`, { cause })));
    child.on('close', (code) => {
      if (partial !== '') recent.push(partial);
      const match = /^TESTBIN=(.+)$/m.exec(stdout);
      if (code === 0 && match?.[1] !== undefined) return resolve(match[1].trim());
      reject(
        new Error(
          `cannot build the test control plane: ${BUILD_SCRIPT} exited with ${code}\n${recent.join('\n')}`,
        ),
      );
    });
  });
}
