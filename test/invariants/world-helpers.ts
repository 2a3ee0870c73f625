import { kubectl } from '../control-plane/testing.ts';
import { designManifests } from '../e2e/support/manifests.ts';
import { eventually, waitForCondition } from '../e2e/support/wait.ts';
import type { World } from '../e2e/support/world.ts';
import type { Emulator } from '../emulator/index.ts';
import type { InvariantInput } from './model.ts';
import { type RunRecorder, startRecorder } from './recorder.ts';

/** CRASH_ENV is the operator's crash hook variable. */
export const CRASH_ENV = 'RANCHER_APIKEY_OPERATOR_CRASH_AT';

/**
 * FAST_LEASE makes a replacement process take over a SIGKILLed one's Lease in seconds instead of 15 s
 * (leader election itself is exercised with its defaults by the failover scenario).
 */
export const FAST_LEASE = { LEASE_DURATION: '4s', RENEW_DEADLINE: '3s', RETRY_PERIOD: '1s' };

/** Credentials names which seeded Rancher identity a namespace's connection uses. */
export type Credentials = 'admin' | 'user';

/** apply runs `kubectl apply` on a manifest and throws with kubectl's message when it fails. */
export async function apply(yaml: string): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { input: yaml });
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

/** connectionManifests returns the credentials Secret and RancherConnection `rancher` of designManifests, without its ApiKey. */
export function connectionManifests(ns: string, emulator: Emulator, creds: Credentials = 'admin'): string {
  const id = creds === 'admin' ? emulator.admin : emulator.user;
  const all = designManifests(ns, emulator, { accessKey: id.accessKey, secretKey: id.secretKey });
  return all.slice(0, all.lastIndexOf('---'));
}

/** setUpConnection applies a namespace's connection and waits until it reports Ready. */
export async function setUpConnection(
  ns: string,
  emulator: Emulator,
  creds: Credentials = 'admin',
): Promise<void> {
  await apply(connectionManifests(ns, emulator, creds));
  const r = await kubectl([
    'wait',
    '--for=condition=Ready',
    '--timeout=60s',
    '-n',
    ns,
    'rancherconnection/rancher',
  ]);
  if (r.code !== 0) throw new Error(`connection in ${ns} not Ready: ${r.stderr}`);
}

/** waitForExit resolves with true when the operator process exits within `timeoutMs`, false otherwise. */
export async function waitForExit(world: World, timeoutMs = 30_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
  });
  const exited = world.operator.exited().then(() => true as const);
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  return result;
}

/** FaultRun bundles a world with the recorder and every log line of every operator process it ran. */
export interface FaultRun {
  recorder: RunRecorder;
  since: Date;
  /** logs returns the lines of every operator process started so far (the restarts included). */
  logs(): string[];
  /** invariantInput builds the checker input for this run (metrics of the current process included). */
  invariantInput(extra?: Partial<InvariantInput>): Promise<InvariantInput>;
}

/**
 * trackRun starts recording a world: a recorder on its namespaces, and the log lines of the current and
 * every later operator process (call `adopt()` after each restart so its lines are kept).
 */
export function trackRun(world: World, since: Date): FaultRun & { adopt(lines?: string[]): void } {
  const recorder = startRecorder(world.kc, world.namespaces);
  const seen: string[][] = [world.operator.lines];
  return {
    recorder,
    since,
    adopt(lines = world.operator.lines) {
      if (!seen.includes(lines)) seen.push(lines);
    },
    logs: () => seen.flat(),
    async invariantInput(extra) {
      if (!seen.includes(world.operator.lines)) seen.push(world.operator.lines);
      const metrics = await world.operator.metrics().catch(() => undefined);
      return {
        kc: world.kc,
        emulator: world.emulator,
        namespaces: world.namespaces,
        recorder,
        operatorLogs: seen.flat(),
        operatorMetrics: metrics,
        since,
        eventNamespaces: ['rancher-apikey-operator-system'],
        settleMs: 4_000, // the worlds run DRIFT_CHECK_INTERVAL=3s
        ...extra,
      };
    },
  };
}

/** describeState renders an ApiKey's status, its marker keys in Rancher and the last operator lines, for failure messages. */
export async function describeState(world: World, run: FaultRun, ns: string, name: string): Promise<string> {
  const k = await kubectl(['get', 'apikey', name, '-n', ns, '-o', 'jsonpath={.status}']);
  const keys = world.emulator
    .keys()
    .filter((r) => r.description?.includes(`${ns}/${name} `))
    .map((r) => `${r.id}:${r.state}:${r.publicValue}`);
  return `status=${k.stdout}\nrancher keys=${keys.join(' ')}\nlogs:\n${run.logs().slice(-25).join('\n')}`;
}

/** readyOrExplain waits for Ready=True and, if it never comes, throws with describeState's picture. */
export async function readyOrExplain(
  world: World,
  run: FaultRun,
  ns: string,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await waitForCondition(world.custom, ns, name, 'Ready', 'True', undefined, timeoutMs);
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\n${await describeState(world, run, ns, name)}`,
    );
  }
}

/**
 * supervise plays the kubelet: whenever the world's operator process exits (lost lease, crash), it
 * starts a new one, until the returned stop() is called; restarts() counts how often it did.
 */
export function supervise(
  world: World,
  run: FaultRun & { adopt(): void },
): { stop(): void; restarts(): number } {
  let running = true;
  let restarts = 0;
  void (async () => {
    while (running) {
      const current = world.operator;
      await current.exited();
      if (!running) return;
      for (;;) {
        try {
          restarts++;
          await world.restartOperator({ crash: true });
          run.adopt();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    }
  })();
  return {
    stop() {
      running = false;
    },
    restarts: () => restarts,
  };
}

/** RANCHER_ACTION_STATE is the state each out-of-band Rancher action leaves a key in. */
const RANCHER_ACTION_STATE = {
  activate: 'active',
  deactivate: 'inactive',
  remove: 'removed',
  purge: 'purged',
};

/**
 * rancherAction performs `action` on key `id` with the emulator's admin credentials, as someone acting
 * out of band would, and waits until the key has reached the action's state (it throws if Rancher
 * refused the action or the key never got there), retrying while the key is still in transition.
 */
export async function rancherAction(
  emulator: Emulator,
  id: string,
  action: keyof typeof RANCHER_ACTION_STATE,
): Promise<void> {
  const want = RANCHER_ACTION_STATE[action];
  const auth = `Basic ${Buffer.from(`${emulator.admin.accessKey}:${emulator.admin.secretKey}`).toString('base64')}`;
  const state = () => emulator.keys().find((k) => k.id === id)?.state;
  let answer = '';
  await eventually(
    `Rancher key ${id} ${want} after ${action}`,
    async () => {
      if (state() === want) return true;
      const r = await fetch(`${emulator.url}/v1/apikeys/${id}/?action=${action}`, {
        method: 'POST',
        headers: { authorization: auth },
      });
      answer = `${r.status} ${await r.text()}`;
      return state() === want ? true : undefined;
    },
    10_000,
  ).catch((err: unknown) => {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}; state ${state()}, last answer ${answer.slice(0, 200)}`,
    );
  });
}
