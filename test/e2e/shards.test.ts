// Two (and, for the overlap, three) operator processes sharding one namespace by label, each with deploy/'s
// RBAC, its own SHARD_NAME and Lease: every ApiKey is claimed (status.shard) and reconciled by exactly one shard,
// a key relabelled mid-rotation or mid-deletion is handed over with no duplicate and no orphan, overlapping
// selectors are reported and write nothing, and a killed shard stops only its own keys.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { formatViolations, waitForInvariants } from '../invariants/checker.ts';
import { designManifests } from './support/manifests.ts';
import { type OperatorProcess, startOperatorProcess } from './support/operator-process.ts';
import { authenticates, eventually, getApiKey, readSecretValues } from './support/wait.ts';
import { OPERATOR_NAMESPACE, startWorld, type World } from './support/world.ts';

const KEYS = 200;
/** ApiKeys on the ClusterRancherConnection both shards use, half each. */
const SHARED_KEYS = 10;
const run = randomBytes(3).toString('hex');
const SHARD = {
  a: `e2e-${run}-a`,
  b: `e2e-${run}-b`,
  c: `e2e-${run}-c`,
  d: `e2e-${run}-d`,
  n1: `e2e-${run}-n1`,
  n2: `e2e-${run}-n2`,
};
// Short Leases so that a dead shard's claims are taken over in seconds (client-go constraints still hold).
const LEASES = { LEASE_DURATION: '4s', RENEW_DEADLINE: '3s', RETRY_PERIOD: '1s' };

let world: World;
const shards = new Map<string, OperatorProcess>();
const ns = () => world.namespaces[0] ?? '';

function shardEnv(name: string, selector: string): Record<string, string> {
  return {
    ...world.operatorEnv,
    ...LEASES,
    SHARD_NAME: name,
    LEADER_ELECTION_ID: name,
    WATCH_LABEL_SELECTOR: selector,
    POD_NAME: name,
  };
}

async function startShard(
  name: string,
  selector: string,
  extra: Record<string, string> = {},
): Promise<OperatorProcess> {
  const env = { ...shardEnv(name, selector), ...extra };
  const p = startOperatorProcess({ kubeconfigPath: world.operatorKubeconfig, env });
  shards.set(name, p);
  await p.waitReady();
  return p;
}

const shard = (name: string) => {
  const p = shards.get(name);
  if (!p) throw new Error(`no shard ${name}`);
  return p;
};

/** metric sums the series of a shard's /metrics that start with `series` (a name and some of its labels). */
async function metric(name: string, series: string): Promise<number> {
  const lines = (await shard(name).metrics()).split('\n').filter((l) => l.startsWith(series));
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
const claims = (name: string, action: string) =>
  metric(name, `rancher_apikey_operator_shard_claims_total{shard="${name}",action="${action}"}`);
const creates = (name: string) =>
  metric(name, 'rancher_apikey_operator_rancher_requests_total{action="createKey"');

function apiKey(name: string, label: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'rancher.keyops.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name, namespace: ns(), labels: { shard: label } },
    spec: { connectionRef: { name: 'rancher' }, ...extra },
  };
}

async function apply(items: object[]) {
  const r = await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  });
  expect(r.code, r.stderr).toBe(0);
}

async function relabel(name: string, label: string) {
  const r = await kubectl(['label', '--overwrite', '-n', ns(), `apikey/${name}`, `shard=${label}`]);
  expect(r.code, r.stderr).toBe(0);
}

type Listed = {
  metadata: { name: string; labels?: Record<string, string>; generation?: number };
  status?: {
    id?: string;
    shard?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string }[];
  };
};
async function listApiKeys(): Promise<Listed[]> {
  const list = (await world.custom.listNamespacedCustomObject({
    group: 'rancher.keyops.dev',
    version: 'v1alpha1',
    plural: 'apikeys',
    namespace: ns(),
  })) as { items: Listed[] };
  return list.items;
}
const isReady = (k: Listed) =>
  k.status?.observedGeneration === k.metadata.generation &&
  k.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

const invariantInput = () => ({
  kc: world.kc,
  emulator: world.emulator,
  namespaces: world.namespaces,
  operatorLogs: [...world.operator.lines, ...[...shards.values()].flatMap((p) => p.lines)],
});
async function expectInvariants(timeoutMs = 120_000) {
  const violations = await waitForInvariants(invariantInput, timeoutMs);
  expect(violations, formatViolations(violations)).toEqual([]);
}

beforeAll(async () => {
  // The world's own operator process is shard a; shard b is a second process with the same identity.
  world = await startWorld({
    // The label shards work in the first namespace; the namespace shards (last describe) in the other three.
    namespaceCount: 4,
    env: {
      ...LEASES,
      SHARD_NAME: SHARD.a,
      LEADER_ELECTION_ID: SHARD.a,
      WATCH_LABEL_SELECTOR: 'shard=a',
      POD_NAME: SHARD.a,
      DRIFT_CHECK_INTERVAL: '10m',
    },
  });
  shards.set(SHARD.a, world.operator);
  // Only shard a checks connections (and deletes orphans): b uses the connection but never inventories it.
  await startShard(SHARD.b, 'shard=b', { RECONCILE_CONNECTIONS: 'none' });
  // The credentials Secret and the RancherConnection of the design's manifests (not its ApiKey), deleting orphans:
  // an inventory that took b's keys for orphans would retire them.
  const docs = designManifests(ns(), world.emulator).split('\n---\n');
  const connection = `${docs[1]}\n  orphanPolicy: Delete\n`;
  const r = await kubectl(['apply', '-f', '-'], { input: [docs[0], connection].join('\n---\n') });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  for (const [name, p] of shards) if (name !== SHARD.a) await p.stop();
  await world?.stop();
});

describe('two shards with disjoint selectors', () => {
  it(`converge ${KEYS} ApiKeys, each claimed and created in Rancher by exactly one shard`, async () => {
    const items = Array.from({ length: KEYS }, (_, i) => apiKey(`key-${i}`, i % 2 === 0 ? 'a' : 'b'));
    await apply(items);
    await eventually(
      `${KEYS} ApiKeys Ready`,
      async () => ((await listApiKeys()).filter(isReady).length === KEYS ? true : undefined),
      240_000,
    );
    const listed = await listApiKeys();
    const wrong = listed.filter(
      (k) => k.status?.shard !== (k.metadata.labels?.shard === 'a' ? SHARD.a : SHARD.b),
    );
    expect(wrong.map((k) => `${k.metadata.name}: ${k.status?.shard}`)).toEqual([]);
    // Each shard claimed and created exactly its half: no ApiKey was acted on by both.
    expect(await claims(SHARD.a, 'claim')).toBe(KEYS / 2);
    expect(await claims(SHARD.b, 'claim')).toBe(KEYS / 2);
    expect(await creates(SHARD.a)).toBe(KEYS / 2);
    expect(await creates(SHARD.b)).toBe(KEYS / 2);
    for (const s of [SHARD.a, SHARD.b]) {
      expect(await claims(s, 'take_over')).toBe(0);
      expect(await metric(s, `rancher_apikey_operator_shard_overlaps{shard="${s}"}`)).toBe(0);
    }
    // The connection's inventory (shard a's, orphanPolicy Delete) after every key exists: b's keys are not orphans.
    const passes = () => metric(SHARD.a, 'controller_runtime_reconcile_total{controller="connection"');
    const before = await passes();
    const poke = await kubectl([
      'annotate',
      '--overwrite',
      '-n',
      ns(),
      'rancherconnection/rancher',
      'rancher.keyops.dev/reconcile-requested-at=inventory',
    ]);
    expect(poke.code, poke.stderr).toBe(0);
    await eventually('a connection pass of shard a', async () =>
      (await passes()) > before ? true : undefined,
    );
    expect(await metric(SHARD.a, 'rancher_apikey_operator_orphan_keys{')).toBe(0);
    expect(await metric(SHARD.b, 'controller_runtime_reconcile_total{controller="connection"')).toBe(0);
    // Exactly one non-purged Rancher key per ApiKey, Secrets that authenticate, no secret in any log.
    await expectInvariants();
    const marked = world.emulator.keys().filter((k) => k.description?.includes('apikey-uid:'));
    expect(marked.filter((k) => k.state === 'active')).toHaveLength(KEYS);
    const wide = await kubectl(['get', 'apikeys', '-n', ns(), '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/SHARD/);
    expect(wide.stdout).toContain(SHARD.b);
  });

  it('a ClusterRancherConnection both shards use is checked by shard a alone, and its inventory counts no shard key as an orphan', async () => {
    const shared = `shared-${run}`;
    const creds = designManifests(OPERATOR_NAMESPACE, world.emulator).split('\n---\n')[0] ?? '';
    const r = await kubectl(['apply', '-f', '-'], {
      input: [
        creds.replace('name: rancher-credentials', `name: ${shared}`),
        JSON.stringify({
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          kind: 'ClusterRancherConnection',
          metadata: { name: shared },
          spec: {
            url: world.emulator.url,
            credentialsSecretRef: { name: shared, namespace: OPERATOR_NAMESPACE },
            allowedNamespaces: { names: [ns()] },
            allowAccountKeys: true,
            orphanPolicy: 'Delete',
          },
        }),
      ].join('\n---\n'),
    });
    expect(r.code, r.stderr).toBe(0);
    const ref = { kind: 'ClusterRancherConnection', name: shared };
    await apply(
      Array.from({ length: SHARED_KEYS }, (_, i) =>
        apiKey(`shared-${i}`, i % 2 === 0 ? 'a' : 'b', { connectionRef: ref }),
      ),
    );
    await eventually('the shared connection keys Ready', async () => {
      const ready = (await listApiKeys()).filter((k) => k.metadata.name.startsWith('shared-') && isReady(k));
      return ready.length === SHARED_KEYS ? true : undefined;
    });
    const passes = () => metric(SHARD.a, 'controller_runtime_reconcile_total{controller="connection"');
    const before = await passes();
    const poke = await kubectl([
      'annotate',
      '--overwrite',
      `clusterrancherconnection/${shared}`,
      'rancher.keyops.dev/reconcile-requested-at=inventory',
    ]);
    expect(poke.code, poke.stderr).toBe(0);
    await eventually('a connection pass of shard a', async () =>
      (await passes()) > before ? true : undefined,
    );
    // Every marked key of the account is some shard's: none is an orphan (orphanPolicy Delete would retire it).
    expect(
      await metric(
        SHARD.a,
        `rancher_apikey_operator_orphan_keys{connection="ClusterRancherConnection/${shared}"}`,
      ),
    ).toBe(0);
    expect(await metric(SHARD.b, 'controller_runtime_reconcile_total{controller="connection"')).toBe(0);
    await expectInvariants();
  });

  it('hands a key relabelled mid-rotation from a to b: one live key, a working Secret, no orphan', async () => {
    const name = 'rotating';
    await apply([apiKey(name, 'a', { rotation: { overlap: '15s' } })]);
    const first = await eventually('rotating Ready on a', async () => {
      const k = await getApiKey(world.custom, ns(), name);
      return k?.status?.id && (k.status as { shard?: string }).shard === SHARD.a ? k : undefined;
    });
    const releasesBefore = await claims(SHARD.a, 'release');
    const r = await kubectl([
      'annotate',
      '-n',
      ns(),
      `apikey/${name}`,
      'rancher.keyops.dev/rotate-requested-at=r1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // Mid-rotation: the new key is in place and the old one is still active, retiring after the overlap.
    const rotated = await eventually('rotation started', async () => {
      const k = await getApiKey(world.custom, ns(), name);
      return k?.status?.id !== first.status?.id && (k?.status?.retiring?.length ?? 0) > 0 ? k : undefined;
    });
    expect(world.emulator.keys().find((k) => k.id === first.status?.id)?.state).toBe('active');
    await relabel(name, 'b');
    await eventually('b claims rotating', async () => {
      const k = await getApiKey(world.custom, ns(), name);
      return (k?.status as { shard?: string })?.shard === SHARD.b ? true : undefined;
    });
    expect(await claims(SHARD.a, 'release')).toBe(releasesBefore + 1);
    // b finishes the rotation a started: the old key is purged after the overlap, the new one stays.
    await eventually(
      'old key purged by b',
      async () =>
        world.emulator.keys().find((k) => k.id === first.status?.id)?.state === 'purged' ? true : undefined,
      60_000,
    );
    const k = await getApiKey(world.custom, ns(), name);
    expect(k?.status?.id).toBe(rotated.status?.id);
    const data = await readSecretValues(world.core, ns(), name);
    expect(data?.publicValue).toBe(rotated.status?.publicValue);
    expect(await authenticates(world.emulator.url, data?.publicValue ?? '', data?.secretValue ?? '')).toBe(
      true,
    );
    await expectInvariants();
  });

  it('hands a key relabelled mid-deletion from a to b: the key is retired once and the ApiKey goes', async () => {
    const name = 'deleting';
    await apply([apiKey(name, 'a')]);
    const ready = await eventually('deleting Ready on a', async () => {
      const k = await getApiKey(world.custom, ns(), name);
      return k?.status?.id && (k.status as { shard?: string }).shard === SHARD.a ? k : undefined;
    });
    // Deactivation fails until the fault is cleared: a's deletion is stuck half-way.
    const fault = world.emulator.setFault({
      route: 'POST /apikeys/:id?action=deactivate',
      kind: 'status',
      status: 503,
    });
    const del = await kubectl(['delete', '-n', ns(), `apikey/${name}`, '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    await eventually('a tried to deactivate', async () =>
      (world.emulator.faults().find((f) => f.id === fault)?.hits ?? 0) > 0 ? true : undefined,
    );
    await relabel(name, 'b');
    await eventually('b claims the deleting ApiKey', async () => {
      const k = await getApiKey(world.custom, ns(), name);
      return (k?.status as { shard?: string })?.shard === SHARD.b ? true : undefined;
    });
    world.emulator.clearFaults();
    await eventually('the ApiKey is gone', async () =>
      (await getApiKey(world.custom, ns(), name)) === undefined ? true : undefined,
    );
    expect(world.emulator.keys().find((k) => k.id === ready.status?.id)?.state).toBe('purged');
    expect(await readSecretValues(world.core, ns(), name)).toBeUndefined();
    await expectInvariants();
  });

  it('hands a key relabelled mid-create from a to b: a finishes its pass, then b adopts the one key', async () => {
    const name = 'creating';
    // a's create request is held by Rancher for 3 s: the relabel lands while it is in flight.
    const fault = world.emulator.setFault({
      route: 'POST /apikeys',
      kind: 'latency',
      latencyMs: 3_000,
      times: 1,
    });
    const releasesBefore = await claims(SHARD.a, 'release');
    await apply([apiKey(name, 'a')]);
    await eventually('a create in flight', async () =>
      (world.emulator.faults().find((f) => f.id === fault)?.hits ?? 0) > 0 ? true : undefined,
    );
    await relabel(name, 'b');
    const done = await eventually('b holds creating, Ready', async () => {
      const k = (await listApiKeys()).find((x) => x.metadata.name === name);
      return k && isReady(k) && k.status?.shard === SHARD.b ? k : undefined;
    });
    expect(done.metadata.labels?.shard).toBe('b');
    expect(await claims(SHARD.a, 'release')).toBe(releasesBefore + 1);
    const data = await readSecretValues(world.core, ns(), name);
    expect(await authenticates(world.emulator.url, data?.publicValue ?? '', data?.secretValue ?? '')).toBe(
      true,
    );
    await expectInvariants();
  });

  it('reports overlapping selectors (Event, log, metric) and writes no claim and no key for them', async () => {
    const aKeys = (await listApiKeys()).filter((k) => k.metadata.labels?.shard === 'a').length;
    const c = await startShard(SHARD.c, 'shard in (a,c)');
    await eventually(
      'c reports every key of a as an overlap',
      async () =>
        (await metric(SHARD.c, `rancher_apikey_operator_shard_overlaps{shard="${SHARD.c}"}`)) === aKeys
          ? true
          : undefined,
      60_000,
    );
    expect(c.lines.some((l) => l.includes('overlapping shards'))).toBe(true);
    const events = await kubectl([
      'get',
      'events',
      '-n',
      ns(),
      '--field-selector',
      'reason=ShardOverlap',
      '-o',
      'name',
    ]);
    expect(events.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    // A new key both a and c select: one of them claims it, the other reports it; one Rancher key.
    await apply([apiKey('contested', 'a')]);
    const owner = await eventually('contested claimed and Ready', async () => {
      const k = (await listApiKeys()).find((x) => x.metadata.name === 'contested');
      return k && isReady(k) ? k.status?.shard : undefined;
    });
    expect([SHARD.a, SHARD.c]).toContain(owner);
    // a claimed its half, its shared-connection keys, rotating, deleting and creating; the contested key adds one
    // claim, by a or by c.
    expect((await claims(SHARD.a, 'claim')) + (await claims(SHARD.c, 'claim'))).toBe(
      KEYS / 2 + SHARED_KEYS / 2 + 4,
    );
    expect(await creates(SHARD.c)).toBe(owner === SHARD.c ? 1 : 0);
    await expectInvariants();
    // c goes away cleanly (its Lease released): a takes over what c held and everything stays Ready.
    await c.stop();
    shards.delete(SHARD.c);
    await eventually(
      'a holds contested',
      async () => {
        const k = (await listApiKeys()).find((x) => x.metadata.name === 'contested');
        return k?.status?.shard === SHARD.a ? true : undefined;
      },
      60_000,
    );
    await expectInvariants();
  });

  it("killing shard b stops only b's keys: a's keys keep converging, b's stay Ready, a key moved off b is taken over once b's Lease lapses", async () => {
    await shard(SHARD.b).kill();
    await apply([apiKey('new-b', 'b'), apiKey('key-0', 'a', { description: 'changed while b is down' })]);
    const changed = await eventually('a reconciles its changed key', async () => {
      const k = (await listApiKeys()).find((x) => x.metadata.name === 'key-0');
      return k && k.metadata.generation === 2 && isReady(k) ? k : undefined;
    });
    expect(changed.status?.shard).toBe(SHARD.a);
    const listed = await listApiKeys();
    // Nobody claimed the new key of the dead shard, and b's existing keys are untouched and Ready.
    expect(listed.find((k) => k.metadata.name === 'new-b')?.status).toBeUndefined();
    const bKeys = listed.filter((k) => k.metadata.labels?.shard === 'b' && k.metadata.name !== 'new-b');
    expect(
      bKeys.filter((k) => !isReady(k) || k.status?.shard !== SHARD.b).map((k) => k.metadata.name),
    ).toEqual([]);
    // A key relabelled away from the dead shard: b cannot release it, so its claim stands until a has seen b's
    // Lease unrenewed for a whole lease duration; then a takes the same Rancher key over.
    const takeOvers = await claims(SHARD.a, 'take_over');
    const before = listed.find((k) => k.metadata.name === 'key-1');
    await relabel('key-1', 'a');
    const taken = await eventually(
      'a takes key-1 over from the dead shard',
      async () => {
        const k = (await listApiKeys()).find((x) => x.metadata.name === 'key-1');
        return k && isReady(k) && k.status?.shard === SHARD.a ? k : undefined;
      },
      60_000,
    );
    expect(taken.status?.id).toBe(before?.status?.id);
    expect(await claims(SHARD.a, 'take_over')).toBe(takeOvers + 1);
    await startShard(SHARD.b, 'shard=b', { RECONCILE_CONNECTIONS: 'none' });
    await expectInvariants();
    expect((await listApiKeys()).find((k) => k.metadata.name === 'new-b')?.status?.shard).toBe(SHARD.b);
  });
  it('a shard restarted with a narrower selector releases what it no longer selects; the shard that selects it takes it', async () => {
    const name = 'resharded';
    await apply([
      { ...apiKey(name, 'a'), metadata: { name, namespace: ns(), labels: { shard: 'a', tier: 'x' } } },
    ]);
    const first = await eventually('resharded Ready on a', async () => {
      const k = (await listApiKeys()).find((x) => x.metadata.name === name);
      return k && isReady(k) && k.status?.shard === SHARD.a ? k : undefined;
    });
    // a comes back selecting shard=a but not tier=x (graceful restart: its pass drains, the Lease is handed on).
    const restarted = {
      ...LEASES,
      SHARD_NAME: SHARD.a,
      LEADER_ELECTION_ID: SHARD.a,
      WATCH_LABEL_SELECTOR: 'shard=a,tier!=x',
    };
    await world.restartOperator({ env: restarted });
    shards.set(SHARD.a, world.operator);
    await eventually('a releases the ApiKey it claims but no longer selects', async () =>
      (await claims(SHARD.a, 'release')) === 1 ? true : undefined,
    );
    await startShard(SHARD.d, 'tier=x', { RECONCILE_CONNECTIONS: 'none' });
    const moved = await eventually('d holds resharded, Ready', async () => {
      const k = (await listApiKeys()).find((x) => x.metadata.name === name);
      return k && isReady(k) && k.status?.shard === SHARD.d ? k : undefined;
    });
    expect(moved.status).toMatchObject({ shard: SHARD.d });
    expect(await creates(SHARD.d)).toBe(0); // it took over the key a made, it did not make another
    expect((await getApiKey(world.custom, ns(), name))?.status?.id).toBe(first.status?.id);
    await shard(SHARD.d).stop();
    shards.delete(SHARD.d);
  });
});

describe('namespace shards', () => {
  const KEYS_PER_NS = 5;
  const nsOf = (i: 1 | 2 | 3) => world.namespaces[i] ?? '';
  const start = (name: string, namespaces: string[]) =>
    startShard(name, '', { WATCH_NAMESPACES: namespaces.join(','), RECONCILE_CONNECTIONS: 'none' });

  it('moving a namespace from one shard to another hands its keys over with no duplicate', async () => {
    const [x, y, z] = [nsOf(1), nsOf(2), nsOf(3)];
    for (const n of [x, y, z]) {
      const docs = designManifests(n, world.emulator).split('\n---\n');
      const r = await kubectl(['apply', '-f', '-'], { input: docs.slice(0, 2).join('\n---\n') });
      expect(r.code, r.stderr).toBe(0);
    }
    await start(SHARD.n1, [x, y]);
    await start(SHARD.n2, [z]);
    const keys = [x, y, z].flatMap((n) =>
      Array.from({ length: KEYS_PER_NS }, (_, i) => ({
        apiVersion: 'rancher.keyops.dev/v1alpha1',
        kind: 'ApiKey',
        metadata: { name: `ns-key-${i}`, namespace: n },
        spec: { connectionRef: { name: 'rancher' } },
      })),
    );
    await apply(keys);
    const shardsOf = async (n: string) => {
      const list = (await world.custom.listNamespacedCustomObject({
        group: 'rancher.keyops.dev',
        version: 'v1alpha1',
        plural: 'apikeys',
        namespace: n,
      })) as { items: Listed[] };
      return list.items.filter(isReady).map((k) => k.status?.shard);
    };
    const all = (n: string, shardName: string) => async () => {
      const s = await shardsOf(n);
      return s.length === KEYS_PER_NS && s.every((v) => v === shardName) ? true : undefined;
    };
    await eventually('y on n1', all(y, SHARD.n1), 60_000);
    await eventually('z on n2', all(z, SHARD.n2), 60_000);
    // Move y: n1 restarts watching x only, then n2 restarts watching y and z.
    await shard(SHARD.n1).stop();
    await start(SHARD.n1, [x]);
    await shard(SHARD.n2).stop();
    await start(SHARD.n2, [y, z]);
    await eventually('y on n2', all(y, SHARD.n2), 60_000);
    // n1 still holds its Lease, but no longer watches y: n2 took the keys over (n1 never releases them itself).
    expect(await claims(SHARD.n2, 'take_over')).toBe(KEYS_PER_NS);
    expect(await creates(SHARD.n2)).toBe(0);
    await expectInvariants();
  });
});
