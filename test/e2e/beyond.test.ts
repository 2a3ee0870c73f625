import { Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { startConsumer } from './support/consumer.ts';
import { apiKeyManifest, designManifests } from './support/manifests.ts';
import {
  type ApiKeyObject,
  condition,
  eventually,
  getApiKey,
  readSecretValues,
  waitForCondition,
} from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ namespaceCount: 6 });
});
afterAll(async () => {
  await world?.stop();
});

const ns = (i: number): string => world.namespaces[i] ?? '';
const rancherKey = (id: string | undefined) => world.emulator.keys().find((k) => k.id === id);

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { input: yaml });
  expect(r.code, r.stderr).toBe(0);
}

async function setup(i: number, name: string, spec: Record<string, unknown>): Promise<ApiKeyObject> {
  await apply(designManifests(ns(i), world.emulator));
  await apply(apiKeyManifest(ns(i), name, spec));
  return waitForCondition(world.custom, ns(i), name, 'Ready', 'True');
}

async function events(n: string, name: string): Promise<string> {
  return (await kubectl(['get', 'events', '-n', n, '--field-selector', `involvedObject.name=${name}`]))
    .stdout;
}

const adminAuth = () =>
  `Basic ${Buffer.from(`${world.emulator.admin.accessKey}:${world.emulator.admin.secretKey}`).toString('base64')}`;

describe('zero-downtime rotation', () => {
  it('on demand: a consumer keeps authenticating throughout; the old key is retired after the overlap', async () => {
    const n = ns(0);
    const first = await setup(0, 'rot', { rotation: { overlap: '3s' } });
    const consumer = startConsumer(world.core, world.emulator.url, n, 'rot');
    await new Promise((r) => setTimeout(r, 500));
    await kubectl(['annotate', 'apikey', 'rot', '-n', n, 'rancher.keyops.dev/rotate-requested-at=req-1']);
    const rotated = await eventually('rotation handled', async () => {
      const k = await getApiKey(world.custom, n, 'rot');
      return k?.status?.id !== first.status?.id &&
        (k?.status as { rotation?: { lastHandledRotateAt?: string } })?.rotation?.lastHandledRotateAt ===
          'req-1'
        ? k
        : undefined;
    });
    expect(rancherKey(first.status?.id)?.state).toBe('active'); // still active during the overlap
    await eventually(
      'old key purged after the overlap',
      async () => (rancherKey(first.status?.id)?.state === 'purged' ? true : undefined),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const seen = await consumer.stop();
    expect(seen.failures).toBe(0);
    expect(seen.transportErrors).toBe(0);
    expect(seen.attempts).toBeGreaterThan(20);
    expect(seen.keysSeen.size).toBe(2);
    const data = await readSecretValues(world.core, n, 'rot');
    expect(data?.publicValue).toBe(rotated.status?.publicValue);
    const history =
      (rotated.status as { rotation?: { history?: { id: string; event: string }[] } })?.rotation?.history ??
      [];
    expect(history.map((h) => [h.id, h.event])).toContainEqual([first.status?.id, 'Rotated']);
    expect(await events(n, 'rot')).toMatch(/RotatedKey/);
  });

  it('on schedule: spec.rotation.every replaces the key by itself, with zero failed requests', async () => {
    const n = ns(1);
    const first = await setup(1, 'sched', { rotation: { every: '1h', overlap: '1s' } });
    const consumer = startConsumer(world.core, world.emulator.url, n, 'sched');
    // One hour is the shortest schedule the CRD accepts. Age the key instead of waiting: its recorded creation
    // time becomes 1 h - 5 s ago (and the schedule the operator derived from it, 5 s from now). Nobody touches
    // the ApiKey after that; the operator must rotate it when the hour is up.
    const createdAt = Date.now() - 3_600_000 + 5_000;
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const aged = await kubectl([
      'patch',
      'apikey',
      'sched',
      '-n',
      n,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { keyCreatedAt: iso(createdAt), rotation: { nextRotationAt: iso(createdAt + 3_600_000) } },
      }),
    ]);
    expect(aged.code, aged.stderr).toBe(0);
    expect(rancherKey(first.status?.id)?.state).toBe('active');
    const k = await eventually(
      'scheduled rotation',
      async () => {
        const cur = await getApiKey(world.custom, n, 'sched');
        return cur?.status?.id && cur.status.id !== first.status?.id ? cur : undefined;
      },
      45_000,
    ).catch(async (err: unknown) => {
      const now = await getApiKey(world.custom, n, 'sched');
      const logs = world.operator.lines.filter((l) => l.includes('sched')).slice(-15);
      throw new Error(`${String(err)}\nstatus: ${JSON.stringify(now?.status)}\n${logs.join('\n')}`);
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const seen = await consumer.stop();
    expect(seen.failures).toBe(0);
    expect(seen.transportErrors).toBe(0);
    expect((k.status as { rotation?: { nextRotationAt?: string } }).rotation?.nextRotationAt).toBeDefined();
    const metrics = await world.operator.metrics();
    expect(metrics).toMatch(
      new RegExp(
        `rancher_apikey_operator_next_rotation_timestamp_seconds\\{namespace="${n}",name="sched"\\}`,
      ),
    );
    expect(metrics).toMatch(
      new RegExp(`rancher_apikey_operator_key_age_seconds\\{namespace="${n}",name="sched"\\}`),
    );
    // Retire the key and its schedule so later tests see a quiet Rancher.
    expect((await kubectl(['delete', 'apikey', 'sched', '-n', n, '--timeout=60s'])).code).toBe(0);
  });

  for (const point of [
    'after-persist-before-create',
    'after-create-before-secret',
    'after-secret-before-status',
  ] as const) {
    it(`a crash during rotation (${point}) still ends with one live key and a working Secret`, async () => {
      const n = ns(2);
      const name = `crash-${point.split('-')[1]}`;
      const first = await setup(2, name, { rotation: { overlap: '1s' } });
      await world.restartOperator({ env: { RANCHER_APIKEY_OPERATOR_CRASH_AT: point } });
      const armed = world.operator;
      await kubectl(['annotate', 'apikey', name, '-n', n, `rancher.keyops.dev/rotate-requested-at=${point}`]);
      await armed.exited();
      // The armed process itself crashed at the point: its own crash line, and death by SIGKILL.
      expect(armed.lines).toContain(`crash hook: exiting at ${point}`);
      expect(armed.signal()).toBe('SIGKILL');
      await world.restartOperator();
      await eventually(
        'rotation completed after the crash',
        async () => {
          const k = await getApiKey(world.custom, n, name);
          const handled = (k?.status as { rotation?: { lastHandledRotateAt?: string } })?.rotation
            ?.lastHandledRotateAt;
          return handled === point && !k?.status?.retiring ? k : undefined;
        },
        45_000,
      );
      const k = await getApiKey(world.custom, n, name);
      const mine = world.emulator
        .keys()
        .filter((x) => x.description?.includes(`apikey-uid:${k?.metadata.uid}`));
      expect(mine.filter((x) => x.state !== 'purged').map((x) => x.id)).toEqual([k?.status?.id]);
      expect(k?.status?.id).not.toBe(first.status?.id);
      const data = await readSecretValues(world.core, n, name);
      expect(data?.publicValue).toBe(k?.status?.publicValue);
      expect(condition(k, 'Verified')?.status).toBe('True');
    });
  }
});

describe('proof that a key works', () => {
  it('Verified turns False when the key is deactivated out of band, and True again once repaired', async () => {
    const n = ns(3);
    const k = await setup(3, 'verify', {});
    await eventually('Verified', async () =>
      condition(await getApiKey(world.custom, n, 'verify'), 'Verified')?.status === 'True' ? true : undefined,
    );
    // Every Verified condition the ApiKey's status goes through, from a watch (the False may be short-lived).
    const verified: string[] = [];
    const watch = await new Watch(world.kc).watch(
      `/apis/rancher.keyops.dev/v1alpha1/namespaces/${n}/apikeys`,
      { fieldSelector: 'metadata.name=verify' },
      (_phase: string, obj: ApiKeyObject) => {
        const c = condition(obj, 'Verified');
        if (c) verified.push(`${c.status}:${c.reason}`);
      },
      () => undefined,
    );
    try {
      const r = await fetch(
        `${world.emulator.url}/v1/projects/${world.emulator.environments[0]?.id}/apikeys/${k.status?.id}/?action=deactivate`,
        {
          method: 'POST',
          headers: { authorization: adminAuth() },
        },
      );
      expect(r.status, await r.text()).toBeLessThan(300);
      await eventually(
        'VerificationFailed Event',
        async () => ((await events(n, 'verify')).includes('VerificationFailed') ? true : undefined),
        30_000,
      );
      // The operator activates the key before it writes Verified=False, so a poll of the key and the status
      // can see "active, Verified=True" before that write lands: wait on the watched sequence instead.
      const repaired = () => {
        const turnedFalse = verified.indexOf('False:AuthenticationFailed');
        return turnedFalse >= 0 && verified.slice(turnedFalse).includes('True:Authenticated');
      };
      await eventually(
        'Verified=False, then True with the key active again',
        async () => (repaired() && rancherKey(k.status?.id)?.state === 'active' ? true : undefined),
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; Verified went ${verified.join(' → ')}`);
      });
    } finally {
      watch.abort();
    }
    const cur = await getApiKey(world.custom, n, 'verify');
    expect(condition(cur, 'Verified')?.status).toBe('True');
  });
});

describe('orphan inventory', () => {
  it('reports a key whose ApiKey vanished without the operator, then cleans it when asked', async () => {
    const n = ns(4);
    const k = await setup(4, 'lost', {});
    await kubectl(['annotate', 'apikey', 'lost', '-n', n, 'rancher.keyops.dev/paused=true']);
    await kubectl(['delete', 'apikey', 'lost', '-n', n, '--wait=false']);
    await kubectl([
      'patch',
      'apikey',
      'lost',
      '-n',
      n,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    await eventually('ApiKey gone', async () =>
      (await getApiKey(world.custom, n, 'lost')) === undefined ? true : undefined,
    );
    const conn = async () =>
      JSON.parse((await kubectl(['get', 'rancherconnection', 'rancher', '-n', n, '-o', 'json'])).stdout) as {
        status?: { orphans?: { count: number; keys: { id: string; apiKey: string }[] } };
      };
    const reported = await eventually(
      'orphan reported',
      async () => {
        const c = await conn();
        return c.status?.orphans?.count === 1 ? c : undefined;
      },
      30_000,
    );
    expect(reported.status?.orphans?.keys[0]).toMatchObject({ id: k.status?.id, apiKey: `${n}/lost` });
    expect(await events(n, 'rancher')).toMatch(/OrphanKeysFound/);
    expect(await world.operator.metrics()).toMatch(
      new RegExp(`rancher_apikey_operator_orphan_keys\\{connection="RancherConnection/${n}/rancher"\\} 1`),
    );
    await kubectl([
      'patch',
      'rancherconnection',
      'rancher',
      '-n',
      n,
      '--type=merge',
      '-p',
      '{"spec":{"orphanPolicy":"Delete"}}',
    ]);
    await eventually(
      'orphan purged',
      async () => (rancherKey(k.status?.id)?.state === 'purged' ? true : undefined),
      30_000,
    ).catch(async (err: unknown) => {
      const c = await conn();
      throw new Error(
        `${String(err)}: key ${JSON.stringify(rancherKey(k.status?.id))}, connection ${JSON.stringify(c.status)}`,
      );
    });
    await eventually(
      'inventory empty',
      async () => ((await conn()).status?.orphans?.count === 0 ? true : undefined),
      30_000,
    );
  });

  it('an ApiKey deleted with deletionPolicy Orphan releases its key: it is not reported as an orphan', async () => {
    const n = ns(4);
    const k = await setup(4, 'released', { deletionPolicy: 'Orphan' });
    expect((await kubectl(['delete', 'apikey', 'released', '-n', n, '--timeout=60s'])).code).toBe(0);
    const key = rancherKey(k.status?.id);
    expect(key?.state).toBe('active');
    expect(key?.description).toMatch(/released by rancher-apikey-operator/);
    expect(key?.description).not.toMatch(/apikey-uid:/);
  });
});

describe('plan mode', () => {
  it('changes nothing while describing exactly what the next real reconcile does', async () => {
    const n = ns(5);
    await apply(designManifests(n, world.emulator));
    await waitForCondition(world.custom, n, 'ci-deployer', 'Ready', 'True');
    world.emulator.resetRequests();
    await apply(apiKeyManifest(n, 'planned', { mode: 'Plan' }));
    const planned = await eventually('planned actions', async () => {
      const k = (await getApiKey(world.custom, n, 'planned')) as ApiKeyObject & {
        status?: { plannedActions?: { action: string }[] };
      };
      return k?.status?.plannedActions?.length ? k : undefined;
    });
    const actions = (planned.status as { plannedActions: { action: string }[] }).plannedActions.map(
      (a) => a.action,
    );
    expect(actions).toEqual(['AddFinalizer', 'CreateKey']);
    await new Promise((r) => setTimeout(r, 2_000));
    const writes = world.emulator.requests();
    expect(writes.writes, JSON.stringify(writes.byRoute)).toBe(0);
    expect(await readSecretValues(world.core, n, 'planned')).toBeUndefined();
    expect((await getApiKey(world.custom, n, 'planned'))?.metadata.finalizers ?? []).toEqual([]);

    const before = world.operator.lines.length;
    await kubectl(['patch', 'apikey', 'planned', '-n', n, '--type=merge', '-p', '{"spec":{"mode":"Apply"}}']);
    await waitForCondition(world.custom, n, 'planned', 'Ready', 'True');
    const executed = world.operator.lines
      .slice(before)
      .map((l) => JSON.parse(l) as { apiKey?: string; msg?: string; actions?: string[] })
      .find((l) => l.apiKey === `${n}/planned` && l.msg === 'executing plan');
    expect(executed?.actions).toEqual(actions);
  });

  it('on an existing key, a planned deactivation is reported but not carried out until mode Apply', async () => {
    const n = ns(5);
    const k = await setup(5, 'plan-existing', {});
    await kubectl([
      'patch',
      'apikey',
      'plan-existing',
      '-n',
      n,
      '--type=merge',
      '-p',
      '{"spec":{"mode":"Plan","state":"Inactive"}}',
    ]);
    const planned = await eventually('planned deactivation', async () => {
      const cur = (await getApiKey(world.custom, n, 'plan-existing')) as ApiKeyObject & {
        status?: { plannedActions?: { action: string; detail: string }[] };
      };
      return cur?.status?.plannedActions?.length ? cur.status.plannedActions : undefined;
    });
    expect(planned).toEqual([{ action: 'DeactivateKey', detail: `deactivate Rancher key ${k.status?.id}` }]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(rancherKey(k.status?.id)?.state).toBe('active');
    await kubectl([
      'patch',
      'apikey',
      'plan-existing',
      '-n',
      n,
      '--type=merge',
      '-p',
      '{"spec":{"mode":"Apply"}}',
    ]);
    await waitForCondition(world.custom, n, 'plan-existing', 'Ready', 'True', 'KeyInactive');
    expect(rancherKey(k.status?.id)?.state).toBe('inactive');
  });
});
