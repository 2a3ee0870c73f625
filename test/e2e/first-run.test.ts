import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createTestNamespace, kubectl } from '../control-plane/testing.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { designManifests } from './support/manifests.ts';
import { type OperatorProcess, startOperatorProcess } from './support/operator-process.ts';
import { eventually, waitForCondition } from './support/wait.ts';
import { ensureCrds } from './support/world.ts';

// The README's way to run the operator outside a cluster, as a new user tries it: their own (admin)
// kubeconfig, the CRDs applied, nothing else prepared, no flags. Issue 13: it used to campaign for a Lease in
// a namespace that did not exist, logging 404s at debug level only, and never reconciled anything.

const cluster = connect();
const kc = cluster.kubeConfig();
const running: OperatorProcess[] = [];
let emulator: Emulator;

beforeAll(async () => {
  await ensureCrds();
  emulator = await startEmulator({ transitionDelayMs: 20, autoPurgeDelayMs: 600_000 });
});
afterAll(async () => {
  await Promise.all(running.map((op) => op.stop()));
  await emulator?.close();
});

/** startAsNewUser runs src/main.ts with the admin kubeconfig and only `env` (WATCH_NAMESPACES keeps other suites out). */
function startAsNewUser(env: Record<string, string>): OperatorProcess {
  // The helper plays a Pod of deploy/ (LEADER_ELECT=true); an empty value is "unset", as for a new user.
  const op = startOperatorProcess({
    kubeconfigPath: cluster.kubeconfigPath,
    env: { LEADER_ELECT: '', ...env },
  });
  running.push(op);
  return op;
}

async function readyz(op: OperatorProcess): Promise<{ status: number; body: string }> {
  const port = await eventually('the probe port in the start line', async () => op.healthPort());
  const r = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: r.status, body: await r.text() };
}

type LogLine = { level?: number; msg?: string; reason?: string; remedy?: string };
const parsed = (op: OperatorProcess): LogLine[] =>
  op.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });

describe('first run outside a cluster', () => {
  it('without flags, leader election is off and an ApiKey becomes Ready (no operator namespace needed)', async () => {
    const ns = await createTestNamespace(kc, 'first-run');
    const missing = `first-run-none-${randomBytes(3).toString('hex')}`;
    // The operator namespace does not exist, as on a fresh cluster.
    const op = startAsNewUser({ WATCH_NAMESPACES: ns, OPERATOR_NAMESPACE: missing });
    await op.waitReady();
    expect(op.lines.join('\n')).toContain('leader election is off');
    const applied = await kubectl(['apply', '-f', '-'], { input: designManifests(ns, emulator) });
    expect(applied.code, applied.stderr).toBe(0);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await waitForCondition(custom, ns, 'ci-deployer', 'Ready', 'True', undefined, 60_000);
    expect(parsed(op).filter((l) => (l.level ?? 0) >= 40)).toEqual([]);
    expect(await op.stop()).toBe(0);
  });

  it('with leader election on and its namespace missing, warns with the reason and remedy and /readyz says why', async () => {
    const ns = await createTestNamespace(kc, 'first-run-le');
    const leaseNs = `first-run-lease-${randomBytes(3).toString('hex')}`;
    const op = startAsNewUser({
      WATCH_NAMESPACES: ns,
      LEADER_ELECT: 'true',
      LEADER_ELECTION_NAMESPACE: leaseNs,
      RETRY_PERIOD: '500ms',
      RENEW_DEADLINE: '2s',
      LEASE_DURATION: '3s',
    });
    const reason = `namespace "${leaseNs}" does not exist (404)`;
    const notReady = await eventually('/readyz to name the lease problem', async () => {
      const r = await readyz(op);
      return r.status === 503 && r.body.includes(reason) ? r : undefined;
    });
    expect(notReady.body).toContain(`kubectl create namespace ${leaseNs}`);
    // Several failed attempts, one warning (rate-limited), with the reason and remedy as fields.
    await eventually('a few failed attempts', async () =>
      op.lines.filter((l) => l.includes('cannot acquire or renew lease')).length >= 4 ? true : undefined,
    );
    const warnings = parsed(op).filter((l) => l.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: expect.stringContaining(`cannot acquire leader lease ${leaseNs}/rancher-apikey-operator`),
        reason,
        remedy: expect.stringContaining('--leader-elect=false'),
      }),
    ]);

    // The admin follows the remedy: the operator recovers without a restart.
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: leaseNs } } });
    try {
      await eventually('/readyz ok after the namespace exists', async () =>
        (await readyz(op)).status === 200 ? true : undefined,
      );
      const lease = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ namespace: leaseNs, name: 'rancher-apikey-operator' });
      expect(lease.spec?.holderIdentity).not.toBe('');
      expect(await op.stop()).toBe(0);
    } finally {
      await core.deleteNamespace({ name: leaseNs }).catch(() => undefined);
    }
  });
});
