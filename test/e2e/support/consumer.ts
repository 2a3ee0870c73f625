import type { CoreV1Api } from '@kubernetes/client-node';
import { authenticates, readSecretValues } from './wait.ts';

/** Consumer is a workload that keeps authenticating with whatever its Secret holds right now. */
export interface Consumer {
  /** failures are requests Rancher refused; transportErrors are requests that never got an answer. */
  stop(): Promise<{ attempts: number; failures: number; transportErrors: number; keysSeen: Set<string> }>;
}

/**
 * startConsumer reads the Secret and authenticates against Rancher with its current values every
 * `intervalMs`, as an application re-reading a mounted Secret would; it counts failed requests.
 */
export function startConsumer(
  core: CoreV1Api,
  url: string,
  ns: string,
  secret: string,
  intervalMs = 50,
): Consumer {
  let running = true;
  let attempts = 0;
  let failures = 0;
  let transportErrors = 0;
  const keysSeen = new Set<string>();
  const loop = (async () => {
    while (running) {
      try {
        const data = await readSecretValues(core, ns, secret);
        attempts++;
        if (data?.publicValue && data.secretValue) {
          keysSeen.add(data.publicValue);
          if (!(await authenticates(url, data.publicValue, data.secretValue))) failures++;
        } else {
          failures++;
        }
      } catch {
        transportErrors++;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { attempts, failures, transportErrors, keysSeen };
    },
  };
}
