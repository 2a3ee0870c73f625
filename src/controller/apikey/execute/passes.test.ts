// Several observe -> plan -> execute passes over the in-memory fakes, with the apiserver's view of the ApiKey and
// its Secrets updated between passes: what a user sees after crashes and lost responses.
import { describe, expect, it } from 'vitest';
import type { Resolved } from '../../connection/resolver.ts';
import {
  apiKeyObject,
  FakeEvents,
  FakeRancher,
  FakeResources,
  FakeSecrets,
  Journal,
  MapCache,
  URL,
} from '../../fakes.test-support.ts';
import { createDriftTracker } from '../drift.ts';
import { createKeyInventory } from '../key-inventory.ts';
import { observe } from '../observe.ts';
import { plan } from '../plan/plan.ts';
import { readPair } from '../secret-data.ts';
import type { CrashPoint } from './context.ts';
import { execute } from './execute.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');

function cluster(canSupplyValues: boolean) {
  const journal = new Journal();
  const rancher = new FakeRancher(journal);
  rancher.identityValue = {
    accountId: '1a1',
    accountKind: canSupplyValues ? 'admin' : 'user',
    canSupplyValues,
  };
  const secrets = new FakeSecrets(journal);
  const resources = new FakeResources(journal);
  const events = new FakeEvents(journal);
  const apiKeys = new MapCache();
  const secretCache = new MapCache();
  apiKeys.set('team-a', 'ci', apiKeyObject({ metadata: { finalizers: [] } }));
  const resolved: Resolved = {
    view: { ok: true, url: URL, canSupplyValues, accountId: '1a1' },
    client: rancher,
    identity: rancher.identityValue,
    url: URL,
  };
  const drift = createDriftTracker(600_000, 0);
  const inventory = createKeyInventory({
    intervalMs: 600_000,
    drift,
    apiKeys,
    requeue: () => undefined,
    now: () => NOW,
  });
  const lastWritten = new Map<string, string>();
  let crashAt: CrashPoint | undefined;
  const crashed: CrashPoint[] = [];
  let applied = 0;

  /** sync plays the writes of a pass onto the informer caches, as the apiserver and the watches would. */
  const sync = () => {
    const obj = apiKeys.get('ci', 'team-a') as {
      metadata: Record<string, unknown>;
      status?: Record<string, unknown>;
    };
    for (const w of journal.writes.slice(applied)) {
      if (w.op === 'finalizers') obj.metadata.finalizers = w.finalizers;
      if (w.op === 'status') {
        const status = { ...obj.status };
        for (const [k, v] of Object.entries(w.status)) {
          if (v === null) delete status[k];
          else status[k] = v;
        }
        obj.status = status;
      }
    }
    applied = journal.writes.length;
    apiKeys.set('team-a', 'ci', obj);
    secretCache.objects.clear();
    for (const [k, s] of secrets.objects) secretCache.objects.set(k, structuredClone(s));
  };

  /** pass runs one observe -> plan -> execute; a crash or failed action ends it like a killed process would. */
  const pass = async () => {
    const o = await observe('team-a/ci', {
      apiKeys,
      secretCache,
      secrets,
      connections: {
        refFor: () => ({ kind: 'RancherConnection', name: 'rancher', namespace: 'team-a' }),
        resolve: async () => resolved,
        invalidate: () => undefined,
      },
      drift,
      inventory,
      now: () => NOW,
    });
    if ('gone' in o || 'invalid' in o) throw new Error('unexpected');
    const p = plan(o.observation);
    const deps = {
      resources,
      secrets,
      events,
      now: () => NOW,
      crash: (point: CrashPoint) => {
        if (point !== crashAt) return;
        crashAt = undefined;
        crashed.push(point);
        throw new Error(`crash at ${point}`);
      },
    };
    try {
      await execute(o, p, deps, lastWritten);
      // As the reconciler does: a pass that asked Rancher schedules the next drift check.
      const r = o.observation.rancher;
      if (r.checked && !('error' in r)) drift.checked(o.observation.apiKey.metadata.uid, NOW);
    } catch {
      // the work queue retries
    }
    sync();
    return p;
  };

  const ready = () => {
    const s = (
      apiKeys.get('ci', 'team-a') as { status?: { conditions?: { type: string; status: string }[] } }
    ).status;
    return s?.conditions?.find((c) => c.type === 'Ready')?.status;
  };

  const secretAuthenticates = async () => {
    const s = secrets.get('team-a', 'ci');
    const pair = s ? readPair(s) : undefined;
    return pair ? rancher.verifyKey({ accessKey: pair.publicValue, secretKey: pair.secretValue }) : false;
  };

  const converge = async (max = 8) => {
    for (let i = 0; i < max && ready() !== 'True'; i++) await pass();
    // One more pass for the key's retirements, then steady state.
    for (let i = 0; i < 4; i++) await pass();
  };

  return {
    rancher,
    journal,
    crashed,
    pass,
    ready,
    converge,
    secretAuthenticates,
    crashAt: (p: CrashPoint) => {
      crashAt = p;
    },
    activeKeys: () => rancher.all().filter((k) => k.state === 'active'),
  };
}

describe('passes: a new ApiKey', () => {
  it.each([true, false])(
    'becomes Ready with exactly one active key whose pair the Secret holds (supply values: %s)',
    async (supply) => {
      const c = cluster(supply);
      await c.converge();
      expect(c.ready()).toBe('True');
      expect(c.rancher.all()).toHaveLength(1);
      expect(await c.secretAuthenticates()).toBe(true);

      // Steady state: a further pass writes nothing and asks Rancher nothing.
      const writes = c.journal.writes.length;
      const calls = c.rancher.calls.length;
      await c.pass();
      expect(c.journal.writes.length).toBe(writes);
      expect(c.rancher.calls.length).toBe(calls);
    },
  );

  it('a crash between persisting the pair and the create ends with one key, not two', async () => {
    const c = cluster(true);
    c.crashAt('after-persist-before-create');
    await c.converge();
    expect(c.crashed).toEqual(['after-persist-before-create']);
    expect(c.ready()).toBe('True');
    expect(c.rancher.all()).toHaveLength(1);
    expect(await c.secretAuthenticates()).toBe(true);
  });

  it('a crash after the create (values supplied) adopts the key instead of creating another', async () => {
    const c = cluster(true);
    c.crashAt('after-create-before-secret');
    await c.converge();
    expect(c.crashed).toEqual(['after-create-before-secret']);
    expect(c.ready()).toBe('True');
    expect(c.rancher.all()).toHaveLength(1);
    expect(await c.secretAuthenticates()).toBe(true);
  });

  it('a lost create response ends with one key', async () => {
    const c = cluster(true);
    c.rancher.loseNextResponse('createKey');
    await c.converge();
    expect(c.rancher.methods()).toContain('findKeyByPublicValue');
    expect(c.ready()).toBe('True');
    expect(c.rancher.all()).toHaveLength(1);
    expect(await c.secretAuthenticates()).toBe(true);
  });

  it('a crash after a create without supplied values retires the stray key it could not persist', async () => {
    const c = cluster(false);
    c.crashAt('after-create-before-secret');
    await c.converge();
    expect(c.crashed).toEqual(['after-create-before-secret']);
    expect(c.ready()).toBe('True');
    expect(c.activeKeys()).toHaveLength(1);
    expect(await c.secretAuthenticates()).toBe(true);
    // The first key's secret was lost with the crash: it can never be used, and it does not stay active.
    const stray = c.rancher.all().find((k) => k.id !== c.activeKeys()[0]?.id);
    expect(stray?.state).not.toBe('active');
  });
});
