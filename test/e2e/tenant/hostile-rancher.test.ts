import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../control-plane/testing.ts';
import { apply, setUpConnection } from '../../invariants/world-helpers.ts';
import { apiKeyManifest } from '../support/manifests.ts';
import {
  authenticates,
  condition,
  eventually,
  getApiKey,
  readSecretValues,
  waitForCondition,
} from '../support/wait.ts';
import { startWorld, type World } from '../support/world.ts';

// A tenant (team-b) points its RancherConnection at a Rancher it controls. Each test asserts what a victim
// in another namespace (team-a, using the honest emulator) observes, and that the operator survives.

const MiB = 1024 * 1024;
let world: World;
const teamA = () => world.namespaces[0] ?? '';
const teamB = () => world.namespaces[1] ?? '';

/** FakeRancher is a loopback server speaking just enough of the Rancher 1.x API for the operator. */
interface FakeRancher {
  url: string;
  /** requests counts every call but the identity call; pending counts those not answered yet. */
  requests(): number;
  pending(): number;
  close(): Promise<void>;
}

function wireKey(id: string, origin: string): Record<string, unknown> {
  const self = `${origin}/v1/apikeys/${id}`;
  return {
    id,
    type: 'apiKey',
    kind: 'apiKey',
    name: `hostile-${id}`,
    // About 1 KiB per key, as a real key with a long description would be.
    description: `a key the operator never asked for ${'x'.repeat(900)}`,
    state: 'active',
    transitioning: 'no',
    accountId: '1a5',
    publicValue: `PV${id.padStart(18, '0')}`.slice(0, 20),
    secretValue: null,
    created: '2017-06-01T10:00:00Z',
    removed: null,
    links: { self },
    actions: { deactivate: `${self}/?action=deactivate` },
  };
}

/** startFakeRancher answers the identity call as an admin would, and every other call with `answer`. */
async function startFakeRancher(
  answer: (req: IncomingMessage, res: ServerResponse, origin: string) => void,
): Promise<FakeRancher> {
  let requests = 0;
  let pending = 0;
  let origin = '';
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.url?.toLowerCase().startsWith('/v1/schemas/apikey')) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-api-account-id': '1a1',
        'x-api-account-kind': 'admin',
      });
      res.end(JSON.stringify({ id: 'apiKey', resourceFields: { publicValue: { create: true } } }));
      return;
    }
    requests++;
    pending++;
    res.on('close', () => pending--);
    answer(req, res, origin);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    requests: () => requests,
    pending: () => pending,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** hostileConnection applies team-b's credentials Secret and a RancherConnection `name` to `url`. */
async function hostileConnection(name: string, url: string): Promise<void> {
  await apply(`apiVersion: v1
kind: Secret
metadata: {name: ${name}-credentials, namespace: ${teamB()}}
stringData: {accessKey: "HOSTILEACCESSKEY0001", secretKey: "HostileSecretKeyValue0123456789"}
---
apiVersion: rancher.keyops.dev/v1alpha1
kind: RancherConnection
metadata: {name: ${name}, namespace: ${teamB()}}
spec:
  url: ${url}
  version: v1
  credentialsSecretRef: {name: ${name}-credentials}
`);
}

/** residentMiB reads the operator's RSS from /proc, or from its /metrics when /proc is not there. */
async function residentMiB(): Promise<number> {
  try {
    const status = readFileSync(`/proc/${world.operator.pid}/status`, 'utf8');
    const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]);
    if (Number.isFinite(kb) && kb > 0) return kb / 1024;
  } catch {
    // No procfs: fall back to the process metric.
  }
  const text = await world.operator.metrics();
  return Number(text.match(/^process_resident_memory_bytes (\S+)/m)?.[1]) / MiB;
}

/** healthyWithin reports whether /healthz answers 200 within `ms` (the event loop is not starved). */
async function healthyWithin(ms: number): Promise<boolean> {
  const r = await fetch(`http://127.0.0.1:${world.operator.healthPort()}/healthz`, {
    signal: AbortSignal.timeout(ms),
  }).catch(() => undefined);
  return r?.status === 200;
}

/** victimGetsKey applies a team-a ApiKey and returns how long it took to be Ready with a working pair. */
async function victimGetsKey(name: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  await apply(apiKeyManifest(teamA(), name, {}));
  const k = await waitForCondition(world.custom, teamA(), name, 'Ready', 'True', undefined, timeoutMs);
  const seconds = (performance.now() - started) / 1000;
  const secret = await readSecretValues(world.core, teamA(), name);
  expect(secret?.publicValue).toBe(k.status?.publicValue);
  expect(await authenticates(world.emulator.url, secret?.publicValue ?? '', secret?.secretValue ?? '')).toBe(
    true,
  );
  return seconds;
}

function report(line: string): void {
  process.stderr.write(`[hostile-rancher] ${line}\n`);
}

beforeAll(async () => {
  // NODE_OPTIONS as deploy/ sets it, so memory is measured the way the operator runs in a Pod.
  world = await startWorld({ namespaceCount: 2, env: { NODE_OPTIONS: '--max-semi-space-size=1' } });
  await setUpConnection(teamA(), world.emulator);
});
afterAll(async () => {
  await world?.stop();
});

describe('a hostile Rancher of team-b costs team-a nothing', () => {
  it('a Rancher that answers after 25 s, used by more team-b ApiKeys than there are workers, does not delay team-a', async () => {
    const slow = await startFakeRancher((_req, res) => {
      const timer = setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":"collection","data":[]}');
      }, 25_000);
      res.on('close', () => clearTimeout(timer));
    });
    const workers = 32; // the operator's default CONCURRENCY, which startWorld keeps
    try {
      await hostileConnection('slow', slow.url);
      const keys = Array.from({ length: workers + 8 }, (_, i) =>
        apiKeyManifest(teamB(), `stuck-${i}`, { connectionRef: { name: 'slow' } }),
      );
      await apply(keys.join('\n---\n'));
      // Without a budget every worker would now wait on the slow Rancher for its whole deadline (15 s);
      // the budget lets at most a few wait, however the passes are timed, so wait for those few.
      await eventually('team-b calls to hang', async () => (slow.pending() >= 4 ? true : undefined), 60_000);
      await new Promise((r) => setTimeout(r, 2_000));

      const seconds = await victimGetsKey('during-slowness', 30_000);
      report(`team-a Ready ${seconds.toFixed(1)} s while team-b had ${slow.pending()} calls pending`);
      expect(slow.pending()).toBeGreaterThanOrEqual(4);
      expect(seconds).toBeLessThan(6); // without the budget: 12-13 s (every worker waits out its deadline)

      const metrics = await world.operator.metrics();
      const budget = metrics
        .split('\n')
        .filter(
          (l) => l.startsWith('rancher_apikey_operator_tenant_budget_passes_total') && l.includes(teamB()),
        );
      expect(budget.length, metrics).toBeGreaterThan(0);
      expect(metrics).not.toMatch(new RegExp(`tenant_budget_passes_total\\{namespace="${teamA()}"`));
      expect(await healthyWithin(1_000)).toBe(true);
    } finally {
      const names = Array.from({ length: workers + 8 }, (_, i) => `apikey/stuck-${i}`);
      await kubectl(['delete', '-n', teamB(), ...names, 'rancherconnection/slow', '--wait=false']);
      await slow.close();
    }
  });

  it('an endless pager (1,000 keys a page, always a next link) neither exhausts memory nor blocks team-a', async () => {
    let pages = 0;
    const pager = await startFakeRancher((req, res, origin) => {
      if (req.method !== 'GET') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":"ServerError"}');
        return;
      }
      pages++;
      const data = Array.from({ length: 1_000 }, (_, i) => wireKey(String(pages * 1_000 + i), origin));
      const next = `${origin}/v1/apikeys?limit=1000&marker=m${pages * 1_000}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'collection', data, pagination: { next, partial: true } }));
    });
    const samples: number[] = [];
    const sampler = setInterval(() => {
      residentMiB().then(
        (v) => samples.push(v),
        () => undefined,
      );
    }, 250);
    try {
      const baseline = await residentMiB();
      await hostileConnection('pager', pager.url);
      await apply(apiKeyManifest(teamB(), 'flooded', { connectionRef: { name: 'pager' } }));
      await eventually('the pager to be read', async () => (pages >= 30 ? true : undefined), 60_000);

      const seconds = await victimGetsKey('during-flood', 30_000);
      report(`team-a Ready ${seconds.toFixed(1)} s into the flood (${pages} hostile pages served so far)`);

      const flooded = await eventually(
        'team-b to report the oversized answer',
        async () => {
          const c = condition(await getApiKey(world.custom, teamB(), 'flooded'), 'Ready');
          return c?.status === 'False' && /limit/i.test(c.message) ? c : undefined;
        },
        30_000,
      );
      expect(flooded.reason).toBe('RancherResponseTooLarge');
      expect(flooded.message).toMatch(/more than \d+ keys/);
      expect(flooded.message).not.toContain('HostileSecretKeyValue');

      // Keep the flood going a while longer: memory must level off, not grow with the pages served.
      const servedBefore = pages;
      await new Promise((r) => setTimeout(r, 10_000));
      expect(await healthyWithin(1_000)).toBe(true);
      expect(world.operator.lines.some((l) => l.includes('HostileSecretKeyValue'))).toBe(false);
      const peak = Math.max(...samples);
      report(
        `RSS samples (MiB): ${samples
          .filter((_, i) => i % 8 === 0)
          .map((v) => v.toFixed(0))
          .join(' ')}`,
      );
      report(
        `RSS baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB over ${pages} pages ` +
          `(${pages - servedBefore} in the last 10 s)`,
      );
      expect(peak - baseline).toBeLessThan(200);
      expect(peak).toBeLessThan(400);
      await expect(Promise.race([world.operator.exited(), 'running'])).resolves.toBe('running');
    } finally {
      clearInterval(sampler);
      await kubectl(['delete', '-n', teamB(), 'apikey/flooded', 'rancherconnection/pager', '--wait=false']);
      await pager.close();
    }
  });
});
