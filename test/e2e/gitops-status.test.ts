import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARGOCD_DIR } from '../../scripts/argocd-cm.ts';
import { GROUP } from '../../src/api/names.ts';
import { kubectl } from '../control-plane/testing.ts';
import { FIXTURE_DIR } from '../install/argocd-fixtures.ts';
import { requireLua, runLua } from '../install/lua.ts';
import { apply, setUpConnection } from '../invariants/world-helpers.ts';
import { apiKeyManifest } from './support/manifests.ts';
import { eventually, waitForCondition } from './support/wait.ts';
import { OPERATOR_NAMESPACE, startWorld, type World } from './support/world.ts';

// GitOps-true status and columns (issue 14): what `kubectl get`, kstatus (Flux `wait`) and Argo CD (deploy/argocd's
// health.lua, run in Debian's Lua 5.1) make of live objects of all three kinds. With CAPTURE_ARGOCD_FIXTURES=1 the
// objects are written to test/install/argocd-fixtures/, which the install test replays without a control plane.

type Live = {
  kind: string;
  metadata: {
    name: string;
    generation?: number;
    annotations?: Record<string, string>;
    managedFields?: unknown;
  };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] };
};

let world: World;
const ns = () => world.namespaces[0] ?? '';
const clusterName = () => `gitops-${ns()}`;
const health = (o: Live) =>
  runLua(readFileSync(join(ARGOCD_DIR, 'health.lua'), 'utf8'), o) as {
    status: string;
    message: string;
  };

beforeAll(async () => {
  requireLua();
  world = await startWorld({ namespaceCount: 1 });
  await setUpConnection(ns(), world.emulator);
});
afterAll(async () => {
  await kubectl(['delete', 'clusterrancherconnection', clusterName(), '--ignore-not-found']);
  await world?.stop();
});

/** live reads an object as Argo CD and Flux see it. */
async function live(kind: string, name: string, namespaced = true): Promise<Live> {
  const r = await kubectl(['get', kind, name, ...(namespaced ? ['-n', ns()] : []), '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Live;
}

/** kstatus applies kstatus's rules for a custom resource (what Flux `wait` and health checks compute). */
function kstatus(o: Live): 'Current' | 'InProgress' | 'Failed' {
  const s = o.status;
  const is = (type: string) => s?.conditions?.some((c) => c.type === type && c.status === 'True');
  if (s?.observedGeneration !== undefined && s.observedGeneration !== o.metadata.generation)
    return 'InProgress';
  if (is('Reconciling')) return 'InProgress';
  return is('Stalled') ? 'Failed' : 'Current';
}

/** patchApiKey merge-patches an ApiKey of the test namespace with kubectl. */
const patchApiKey = (name: string, patch: string, ...extra: string[]) =>
  kubectl(['patch', 'apikey', name, '-n', ns(), '--type=merge', '-p', patch, ...extra]);

const ready = (o: Live) => o.status?.conditions?.find((c) => c.type === 'Ready');
const settled = async (kind: string, name: string, reason: string, namespaced = true) =>
  eventually(`${kind}/${name} Ready reason ${reason}`, async () => {
    const o = await live(kind, name, namespaced);
    return ready(o)?.reason === reason && o.status?.observedGeneration === o.metadata.generation
      ? o
      : undefined;
  });

describe('printer columns and conditions', () => {
  it('kubectl get shows the Ready reason; -o wide adds the connection, Verified, the next rotation and the shard', async () => {
    await apply(apiKeyManifest(ns(), 'columns', { rotation: { every: '720h' } }));
    const k = await settled('apikey', 'columns', 'KeyActive');
    const next = (k.status as { rotation?: { nextRotationAt?: string } }).rotation?.nextRotationAt ?? '';
    const plain = await kubectl(['get', 'apikeys', 'columns', '-n', ns()]);
    expect(plain.stdout).toMatch(/NAME\s+RANCHER ID\s+STATE\s+READY\s+REASON\s+SECRET\s+AGE\n/);
    expect(plain.stdout).toMatch(/columns\s+\S+\s+active\s+True\s+KeyActive\s+columns\s+/);
    expect(plain.stdout).not.toMatch(/VERIFIED/);
    const wide = await kubectl(['get', 'apikeys', 'columns', '-n', ns(), '-o', 'wide']);
    expect(wide.stdout).toMatch(/AGE\s+CONNECTION\s+VERIFIED\s+NEXT ROTATION\s+SHARD\n/);
    expect(next).not.toBe('');
    // Unsharded (no SHARD_NAME): the Shard column is empty.
    expect(wide.stdout).toMatch(new RegExp(`\\s+rancher\\s+True\\s+${next}\\s*\\n`));
    const conn = await kubectl(['get', 'rancherconnections', '-n', ns()]);
    expect(conn.stdout).toMatch(/READY\s+REASON\s+AGE\n/);
  });

  it('status.conditions is a list-map: the apiserver refuses two conditions of one type', async () => {
    const c = {
      type: 'Ready',
      status: 'True',
      reason: 'X',
      message: 'x',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const patch = JSON.stringify({ status: { conditions: [c, c] } });
    const r = await patchApiKey('columns', patch, '--subresource=status');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Duplicate value/);
  });
});

describe('plan mode keeps kstatus and Argo CD honest', () => {
  it('a new ApiKey in plan mode: observedGeneration advances, Ready=False PlanNotApplied; kstatus Current, Argo CD Suspended', async () => {
    await apply(apiKeyManifest(ns(), 'planned', { mode: 'Plan' }));
    const o = await settled('apikey', 'planned', 'PlanNotApplied');
    expect(ready(o)?.status).toBe('False');
    expect(o.status?.conditions?.map((c) => c.type).sort()).toEqual(['Planned', 'Ready']);
    expect(kstatus(o)).toBe('Current');
    expect(health(o)).toMatchObject({
      status: 'Suspended',
      message: expect.stringMatching(/^PlanNotApplied: plan mode: no change applied/),
    });
  });

  it('an existing key switched to plan mode with nothing to change: Ready=True PlanNoChanges at the new generation', async () => {
    const r = await patchApiKey('columns', '{"spec":{"mode":"Plan"}}');
    expect(r.code, r.stderr).toBe(0);
    const o = await settled('apikey', 'columns', 'PlanNoChanges');
    expect(o.metadata.generation).toBe(2);
    expect(ready(o)?.status).toBe('True');
    expect(kstatus(o)).toBe('Current');
    expect(health(o).status).toBe('Healthy');
  });
});

/** Scenario is one live object, the kstatus and Argo CD health it must have, and its fixture name. */
interface Scenario {
  fixture: string;
  object: Live;
  kstatus: ReturnType<typeof kstatus>;
  health: string;
}

async function scenarios(): Promise<Scenario[]> {
  await apply(apiKeyManifest(ns(), 'healthy', {}));
  await apply(
    JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'taken', namespace: ns() } }),
  );
  await apply(apiKeyManifest(ns(), 'taken', {}));
  await apply(apiKeyManifest(ns(), 'waiting', { connectionRef: { name: 'not-there' } }));
  await apply(apiKeyManifest(ns(), 'paused', {}));
  await settled('apikey', 'paused', 'KeyActive');
  await kubectl(['annotate', 'apikey', 'paused', '-n', ns(), `${GROUP}/paused=true`]);
  await apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wrong-credentials', namespace: ns(), labels: { [`${GROUP}/credentials`]: 'true' } },
      stringData: { accessKey: world.emulator.admin.accessKey, secretKey: 'not-the-secret' },
    }),
  );
  await apply(
    JSON.stringify({
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'RancherConnection',
      metadata: { name: 'refused', namespace: ns() },
      spec: { url: world.emulator.url, credentialsSecretRef: { name: 'wrong-credentials' } },
    }),
  );
  await apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: clusterName(),
        namespace: OPERATOR_NAMESPACE,
        labels: { [`${GROUP}/credentials`]: 'true' },
      },
      stringData: { accessKey: world.emulator.admin.accessKey, secretKey: world.emulator.admin.secretKey },
    }),
  );
  await apply(
    JSON.stringify({
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ClusterRancherConnection',
      metadata: { name: clusterName() },
      spec: {
        url: world.emulator.url,
        credentialsSecretRef: { name: clusterName(), namespace: OPERATOR_NAMESPACE },
        allowedNamespaces: { names: [ns()] },
      },
    }),
  );
  await waitForCondition(world.custom, ns(), 'healthy', 'Ready', 'True');
  const paused = await live('apikey', 'paused');
  return [
    {
      fixture: 'apikey-healthy',
      object: await live('apikey', 'healthy'),
      kstatus: 'Current',
      health: 'Healthy',
    },
    {
      fixture: 'apikey-plan-pending',
      object: await live('apikey', 'planned'),
      kstatus: 'Current',
      health: 'Suspended',
    },
    {
      fixture: 'apikey-plan-no-changes',
      object: await live('apikey', 'columns'),
      kstatus: 'Current',
      health: 'Healthy',
    },
    {
      fixture: 'apikey-secret-conflict',
      object: await settled('apikey', 'taken', 'SecretConflict'),
      kstatus: 'Failed',
      health: 'Degraded',
    },
    {
      fixture: 'apikey-connection-missing',
      object: await settled('apikey', 'waiting', 'ConnectionNotFound'),
      kstatus: 'InProgress',
      health: 'Progressing',
    },
    { fixture: 'apikey-paused', object: paused, kstatus: 'Current', health: 'Suspended' },
    {
      fixture: 'rancherconnection-ready',
      object: await live('rancherconnection', 'rancher'),
      kstatus: 'Current',
      health: 'Healthy',
    },
    {
      fixture: 'rancherconnection-unauthorized',
      object: await settled('rancherconnection', 'refused', 'RancherUnauthorized'),
      kstatus: 'Failed',
      health: 'Degraded',
    },
    {
      fixture: 'clusterrancherconnection-ready',
      object: await settled('clusterrancherconnection', clusterName(), 'CredentialsValid', false),
      kstatus: 'Current',
      health: 'Healthy',
    },
  ];
}

describe('Argo CD health (deploy/argocd/health.lua in Lua 5.1) on live objects of all three kinds', () => {
  it('maps Ready, Stalled, Reconciling, plan mode and paused to Healthy, Degraded, Progressing and Suspended', async () => {
    const all = await scenarios();
    const seen = all.map((s) => ({
      fixture: s.fixture,
      kstatus: kstatus(s.object),
      health: health(s.object).status,
    }));
    expect(seen).toEqual(all.map((s) => ({ fixture: s.fixture, kstatus: s.kstatus, health: s.health })));
    for (const s of all) {
      const h = health(s.object);
      const r = ready(s.object);
      if (r && s.health !== 'Suspended') expect(h.message, s.fixture).toContain(r.reason);
    }
    if (process.env.CAPTURE_ARGOCD_FIXTURES === '1') {
      for (const s of all) {
        delete s.object.metadata.managedFields;
        const fixture = { kstatus: s.kstatus, health: health(s.object), object: s.object };
        writeFileSync(join(FIXTURE_DIR, `${s.fixture}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
      }
    }
  });
});

describe('Argo CD resource actions (deploy/argocd, in Lua 5.1) on a live ApiKey', () => {
  /** runAction runs an action script on the live object and applies its annotations, as Argo CD patches the result. */
  async function runAction(name: string, action: string): Promise<string> {
    const before = await live('apikey', name);
    const after = runLua(readFileSync(join(ARGOCD_DIR, `${action}.lua`), 'utf8'), before) as Live;
    const patch = JSON.stringify({ metadata: { annotations: after.metadata.annotations } });
    const r = await patchApiKey(name, patch);
    expect(r.code, r.stderr).toBe(0);
    return after.metadata.annotations?.[`${GROUP}/${action}-requested-at`] ?? '';
  }

  it('rotate replaces the key; reconcile runs a full check; each token is echoed in status', async () => {
    const k = await settled('apikey', 'healthy', 'KeyActive');
    const id = (k.status as { id?: string }).id;
    const rotateToken = await runAction('healthy', 'rotate');
    const rotated = await eventually('rotation by the Argo CD action', async () => {
      const o = await live('apikey', 'healthy');
      const s = o.status as { id?: string; rotation?: { lastHandledRotateAt?: string } };
      return s.rotation?.lastHandledRotateAt === rotateToken && s.id !== id ? o : undefined;
    });
    expect(health(rotated).status).toBe('Healthy');
    const reconcileToken = await runAction('healthy', 'reconcile');
    await eventually('reconcile by the Argo CD action', async () => {
      const o = await live('apikey', 'healthy');
      return (o.status as { lastHandledReconcileAt?: string }).lastHandledReconcileAt === reconcileToken
        ? o
        : undefined;
    });
  });
});
