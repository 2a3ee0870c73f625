import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type ApiKey, ApiKeySchema } from '../../../api/apikey.ts';
import { KubeError } from '../../../kube/errors.ts';
import { type RancherApiKey, RancherError } from '../../../rancher/index.ts';
import {
  apiKeyObject,
  FakeEvents,
  FakeRancher,
  FakeResources,
  FakeSecrets,
  Journal,
  UID,
  URL,
} from '../../fakes.test-support.ts';
import { rancherDescription, releasedDescription } from '../../marker.ts';
import type { Action, Plan, PlannedStatus } from '../model.ts';
import type { Observed } from '../observe.ts';
import { buildSecret, buildStagingSecret, readPair, stagingNameOf } from '../secret-data.ts';
import type { CrashPoint } from './context.ts';
import { ActionError, execute } from './execute.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const PAIR = { publicValue: 'AAAAAAAAAAAAAAAAAAA1', secretValue: 'secret-one' };
const READY = { type: 'Ready', status: 'True' as const, reason: 'KeyReady', message: 'key 1c1 is active' };

function world(raw: Record<string, unknown> = apiKeyObject()) {
  const journal = new Journal();
  const rancher = new FakeRancher(journal);
  const secrets = new FakeSecrets(journal);
  const resources = new FakeResources(journal);
  const events = new FakeEvents(journal);
  const crashes: CrashPoint[] = [];
  let crashAt: CrashPoint | undefined;
  const apiKey: ApiKey = ApiKeySchema.parse(raw);
  const deps = {
    resources,
    secrets,
    events,
    crash: (p: CrashPoint) => {
      crashes.push(p);
      if (p === crashAt) throw new Error(`crash at ${p}`);
    },
    now: () => NOW,
  };
  const lastWritten = new Map<string, string>();
  const observed = (
    o: { keys?: RancherApiKey[]; liveSecret?: V1Secret; liveStaging?: V1Secret; apiKey?: ApiKey } = {},
  ): Observed => {
    const k = o.apiKey ?? apiKey;
    return {
      observation: {
        now: new Date(NOW).toISOString(),
        apiKey: k,
        deleting: false,
        hasFinalizer: true,
        paused: false,
        desiredName: 'ci',
        desiredDescription: rancherDescription(k),
        releasedDescription: releasedDescription(k),
        secretName: 'ci',
        connection: { ok: true, url: URL, canSupplyValues: true, accountId: '1a1' },
        secret: { state: 'absent' },
        staging: { state: 'absent' },
        rotateRequested: undefined,
        rancher: {
          checked: true,
          byId: undefined,
          bySecret: undefined,
          marked: [],
          retiring: [],
          byStaging: undefined,
          verified: undefined,
        },
      },
      client: rancher,
      scope: {},
      url: URL,
      liveSecret: o.liveSecret,
      liveStaging: o.liveStaging,
      cachedSecret: o.liveSecret,
      keys: new Map((o.keys ?? []).map((x) => [x.id, x])),
    };
  };
  const run = (p: Partial<Plan>, o: Parameters<typeof observed>[0] = {}) =>
    execute(
      observed(o),
      { actions: [], status: undefined, events: [], requeueAfterMs: undefined, retry: false, ...p },
      deps,
      lastWritten,
    );
  /** pairIn reads the pair a stored Secret holds and whether Rancher authenticates it. */
  const pairIn = async (name = 'ci') => {
    const s = secrets.get('team-a', name);
    const pair = s ? readPair(s) : undefined;
    const verifies = pair
      ? await rancher.verifyKey({ accessKey: pair.publicValue, secretKey: pair.secretValue })
      : false;
    return { pair, verifies };
  };
  return {
    journal,
    rancher,
    secrets,
    resources,
    events,
    crashes,
    crashAt: (p: CrashPoint) => {
      crashAt = p;
    },
    apiKey,
    lastWritten,
    run,
    pairIn,
  };
}

const status = (over: Partial<PlannedStatus> = {}): PlannedStatus => ({
  conditions: [READY],
  id: '1c1',
  publicValue: PAIR.publicValue,
  rancherState: 'active',
  secretName: 'ci',
  ...over,
});

const marked = () => rancherDescription(ApiKeySchema.parse(apiKeyObject()));

describe('execute: order and failure', () => {
  it('performs the actions in plan order, each with its Event, then writes status', async () => {
    const w = world(apiKeyObject({ metadata: { finalizers: [] } }));
    const key = w.rancher.seed({ id: '1c1', description: 'old text', ...PAIR });
    const actions: Action[] = [
      { type: 'AddFinalizer' },
      { type: 'UpdateKey', id: '1c1', name: 'ci', description: marked() },
      { type: 'DeactivateKey', id: '1c1' },
    ];
    await w.run({ actions, status: status({ rancherState: 'inactive' }) }, { keys: [key] });
    expect(w.journal.ops()).toEqual([
      'finalizers',
      'rancher.updateKey',
      'event:UpdatedKey',
      'rancher.deactivateKey',
      'event:DeactivatedKey',
      'status',
    ]);
    expect(w.journal.writes[0]).toMatchObject({ finalizers: ['rancher.keyops.dev/finalizer'] });
    expect(w.rancher.peek('1c1')).toMatchObject({ state: 'inactive', description: marked() });
  });

  it('stops at the first failure with a Warning Event Cannot<Action> and a Ready=False status', async () => {
    const w = world();
    const key = w.rancher.seed({ id: '1c1', description: marked(), ...PAIR });
    // Rancher does not offer activate on an active key (reference §3): the second action fails.
    const actions: Action[] = [
      { type: 'UpdateKey', id: '1c1', name: 'renamed', description: marked() },
      { type: 'ActivateKey', id: '1c1' },
      { type: 'DeactivateKey', id: '1c1' },
    ];
    const err = await w.run({ actions, status: status() }, { keys: [key] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as ActionError).reason).toBe('CannotActivateKey');
    expect(w.journal.ops()).toEqual([
      'rancher.updateKey',
      'event:UpdatedKey',
      'event:CannotActivateKey',
      'status',
    ]);
    expect(w.journal.writes.find((x) => x.op === 'event' && x.type === 'Warning')).toMatchObject({
      reason: 'CannotActivateKey',
    });
    const written = w.resources.statusWrites()[0];
    expect(written?.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'CannotActivateKey' }),
      expect.objectContaining({ type: 'Reconciling', status: 'True', reason: 'CannotActivateKey' }),
    ]);
    expect(w.rancher.peek('1c1')?.state).toBe('active'); // the deactivate after the failure never ran
  });

  it('a failure to write the failure status does not hide the action error', async () => {
    const w = world();
    w.resources.fail = { op: 'status', error: new Error('apiserver down') };
    const err = await w
      .run({ actions: [{ type: 'PurgeKey', id: '1c404' }], status: status() })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'CannotPurgeKey' });
    expect((err as Error).message).toContain('was not observed');
    expect(w.rancher.calls).toEqual([]);
  });

  it('emits the plan Events before any action', async () => {
    const w = world();
    const events = [{ type: 'Warning' as const, reason: 'SecretTampered', message: 'Secret ci was changed' }];
    await w.run({ events, actions: [{ type: 'AddFinalizer' }] });
    expect(w.journal.ops()).toEqual(['event:SecretTampered', 'finalizers']);
  });
});

describe('execute: creating a key', () => {
  it('with supplied values persists the pair before the create, and the Secret authenticates', async () => {
    const w = world();
    const out = await w.run({ actions: [{ type: 'CreateKey', supplyValues: true }], status: status() });
    expect(w.journal.ops()).toEqual(['secret.create', 'rancher.createKey', 'event:CreatedKey']);
    expect(w.crashes.slice(0, 2)).toEqual(['after-persist-before-create', 'after-create-before-secret']);
    const { pair, verifies } = await w.pairIn();
    expect(pair?.publicValue).toBe(out.createdKey?.publicValue);
    expect(verifies).toBe(true);
    expect(out).toMatchObject({ created: true, createdKey: { state: 'active', description: marked() } });
    // The status of a created key is reported by the caller (reportCreated), not by execute.
    expect(w.resources.statusWrites()).toEqual([]);
  });

  it('after a lost create response finds the key by publicValue instead of creating twice', async () => {
    const w = world();
    w.rancher.loseNextResponse('createKey');
    const out = await w.run({ actions: [{ type: 'CreateKey', supplyValues: true }] });
    expect(w.rancher.all()).toHaveLength(1);
    expect(w.rancher.methods().filter((m) => m === 'createKey')).toHaveLength(1);
    expect(w.rancher.methods()).toContain('findKeyByPublicValue');
    expect(out.createdKey?.id).toBe(w.rancher.all()[0]?.id);
    expect((await w.pairIn()).verifies).toBe(true);
  });

  it('a create that failed for certain is reported and leaves no key', async () => {
    const w = world();
    w.rancher.failNext('createKey', new RancherError('Transport', 'connection refused'));
    const err = await w
      .run({ actions: [{ type: 'CreateKey', supplyValues: true }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'CannotCreateKey' });
    expect(w.rancher.all()).toEqual([]);
    expect(w.events.reasons()).toEqual(['CannotCreateKey']);
  });

  it('a crash between persisting and creating leaves the pair in the Secret and no key', async () => {
    const w = world();
    w.crashAt('after-persist-before-create');
    await expect(w.run({ actions: [{ type: 'CreateKey', supplyValues: true }] })).rejects.toThrow(
      ActionError,
    );
    expect(w.rancher.all()).toEqual([]);
    expect((await w.pairIn()).pair).toBeDefined();
  });

  it('without supplied values writes both values in ONE Secret write, after the create', async () => {
    const w = world();
    w.rancher.identityValue = { accountId: '1a7', accountKind: 'user', canSupplyValues: false };
    await w.run({ actions: [{ type: 'CreateKey', supplyValues: false }] });
    expect(w.journal.ops()).toEqual(['rancher.createKey', 'secret.create', 'event:CreatedKey']);
    const s = w.secrets.get('team-a', 'ci');
    expect(Object.keys(s?.data ?? {}).sort()).toEqual(['publicValue', 'secretValue', 'url']);
    expect((await w.pairIn()).verifies).toBe(true);
  });

  it('keeps the values Rancher returned when it dropped the supplied ones (not an admin after all)', async () => {
    const w = world();
    w.rancher.identityValue = { accountId: '1a7', accountKind: 'user', canSupplyValues: false };
    const out = await w.run({ actions: [{ type: 'CreateKey', supplyValues: true }] });
    expect(w.journal.ops()).toEqual([
      'secret.create',
      'rancher.createKey',
      'secret.replace',
      'event:CreatedKey',
    ]);
    const { pair, verifies } = await w.pairIn();
    expect(pair?.publicValue).toBe(out.createdKey?.publicValue);
    expect(verifies).toBe(true);
    expect(w.rancher.all()).toHaveLength(1);
  });

  it("staging a rotation key writes only the staging Secret, never the consumers' Secret", async () => {
    const w = world();
    const live = w.secrets.put(buildSecret(w.apiKey, URL, PAIR));
    await w.run({ actions: [{ type: 'StageKey', supplyValues: true }] }, { liveSecret: live });
    expect(w.journal.ops()).toEqual(['secret.create', 'rancher.createKey', 'event:StagedKey']);
    expect(w.journal.writes[0]).toMatchObject({ name: stagingNameOf(w.apiKey) });
    expect(readPair(w.secrets.get('team-a', 'ci') as V1Secret)).toEqual(PAIR);
    expect((await w.pairIn(stagingNameOf(w.apiKey))).verifies).toBe(true);
    expect(w.resources.statusWrites()).toEqual([]);
  });
});

describe('execute: status', () => {
  it('is not written when unchanged, nor again when this process already wrote it', async () => {
    const w = world();
    await w.run({ status: status() });
    expect(w.resources.statusWrites()).toHaveLength(1);
    // The informer cache lags: the ApiKey still shows the old status, but this process wrote the new one.
    await w.run({ status: status() });
    expect(w.resources.statusWrites()).toHaveLength(1);

    // Another process (a restart) whose ApiKey already shows that status writes nothing either.
    const written = w.resources.statusWrites()[0] ?? {};
    const current = Object.fromEntries(Object.entries(written).filter(([, v]) => v !== null));
    const again = world(apiKeyObject({ status: current }));
    await again.run({ status: status() });
    expect(again.resources.statusWrites()).toEqual([]);

    // A change is written.
    await again.run({ status: status({ rancherState: 'inactive' }) });
    expect(again.resources.statusWrites()).toHaveLength(1);
  });

  it('promote writes status before the Secret, then drops the staging Secret', async () => {
    const w = world(
      apiKeyObject({ status: { observedGeneration: 1, id: '1c1', publicValue: PAIR.publicValue } }),
    );
    const next = { publicValue: 'BBBBBBBBBBBBBBBBBBB2', secretValue: 'secret-two' };
    w.rancher.seed({ id: '1c1', description: marked(), ...PAIR });
    w.rancher.seed({ id: '1c2', description: marked(), ...next });
    const live = w.secrets.put(buildSecret(w.apiKey, URL, PAIR));
    const staging = w.secrets.put(buildStagingSecret(w.apiKey, next));
    const retiring = [
      { id: '1c1', publicValue: PAIR.publicValue, reason: 'Rotated', notBefore: '2026-11-27T12:00:00Z' },
    ];
    await w.run(
      {
        actions: [{ type: 'PromoteKey', id: '1c2', replaces: '1c1' }],
        status: status({ id: '1c2', publicValue: next.publicValue, retiring }),
      },
      { liveSecret: live, liveStaging: staging },
    );
    // Crash safety: once the Secret holds the new pair, status already records the old key's overlap.
    expect(w.journal.ops()).toEqual(['status', 'secret.replace', 'secret.delete', 'event:RotatedKey']);
    expect(w.resources.statusWrites()[0]).toMatchObject({ id: '1c2', retiring });
    expect(readPair(w.secrets.get('team-a', 'ci') as V1Secret)).toEqual(next);
    expect(w.secrets.get('team-a', stagingNameOf(w.apiKey))).toBeUndefined();
    expect(w.rancher.peek('1c1')?.state).toBe('active'); // the old key stays active for the overlap
  });

  it('promote without a readable staged pair changes nothing but the failure status', async () => {
    const w = world();
    const live = w.secrets.put(buildSecret(w.apiKey, URL, PAIR));
    const err = await w
      .run(
        { actions: [{ type: 'PromoteKey', id: '1c2', replaces: '1c1' }], status: status({ id: '1c2' }) },
        { liveSecret: live },
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'CannotPromoteKey' });
    expect(readPair(w.secrets.get('team-a', 'ci') as V1Secret)).toEqual(PAIR);
    expect(w.resources.statusWrites()).toEqual([
      expect.objectContaining({
        conditions: [expect.objectContaining({ status: 'False' }), expect.anything()],
      }),
    ]);
  });
});

describe('execute: Secrets and deletion', () => {
  it('WriteSecret rewrites the Secret with its own pair (one write) and says so', async () => {
    const w = world(apiKeyObject({ spec: { secret: { preset: 'RancherEnv' } } }));
    const live = w.secrets.put(buildSecret(ApiKeySchema.parse(apiKeyObject()), URL, PAIR));
    await w.run({ actions: [{ type: 'WriteSecret' }] }, { liveSecret: live });
    expect(w.journal.ops()).toEqual(['secret.replace', 'event:RestoredSecret']);
    const data = w.secrets.get('team-a', 'ci')?.data ?? {};
    expect(Object.keys(data).sort()).toEqual(['RANCHER_ACCESS_KEY', 'RANCHER_SECRET_KEY', 'RANCHER_URL']);
    expect(readPair(w.secrets.get('team-a', 'ci') as V1Secret)).toEqual(PAIR);
  });

  it('a deletion retires the key in one pass (one Event), removes both Secrets and the finalizer, writes no status', async () => {
    const deleting = { deletionTimestamp: '2026-11-26T11:00:00Z' };
    const w = world(apiKeyObject({ metadata: deleting }));
    const key = w.rancher.seed({ id: '1c1', description: marked(), ...PAIR, state: 'active' });
    const live = w.secrets.put(buildSecret(w.apiKey, URL, PAIR));
    const staging = w.secrets.put(buildStagingSecret(w.apiKey, { publicValue: 'X', secretValue: 'y' }));
    const out = await w.run(
      {
        actions: [
          { type: 'RetireKeys', ids: ['1c1'], stopAtRemoved: false },
          { type: 'DeleteSecret' },
          { type: 'RemoveFinalizer' },
        ],
        status: status(),
      },
      { keys: [key], liveSecret: live, liveStaging: staging },
    );
    expect(w.journal.ops()).toEqual([
      'rancher.deactivateKey',
      'rancher.removeKey',
      'rancher.purgeKey',
      'event:RetiredKey',
      'secret.delete',
      'secret.delete',
      'finalizers',
    ]);
    expect(w.crashes).toContain('after-remove-before-purge');
    expect(w.journal.writes.at(-1)).toMatchObject({ finalizers: [] });
    expect(out.finalizerRemoved).toBe(true);
    expect(w.secrets.objects.size).toBe(0);
    expect(w.rancher.peek('1c1')?.state).toBe('purged');
    expect(w.resources.statusWrites()).toEqual([]);
  });

  it('RetireKeys with stopAtRemoved leaves the key removed, never purged', async () => {
    const w = world(apiKeyObject({ metadata: { deletionTimestamp: '2026-11-26T11:00:00Z' } }));
    const key = w.rancher.seed({ id: '1c1', description: marked(), ...PAIR, state: 'inactive' });
    await w.run(
      { actions: [{ type: 'RetireKeys', ids: ['1c1'], stopAtRemoved: true }, { type: 'RemoveFinalizer' }] },
      { keys: [key] },
    );
    expect(w.journal.ops()).toEqual(['rancher.removeKey', 'event:RetiredKey', 'finalizers']);
    expect(w.rancher.peek('1c1')?.state).toBe('removed');
  });

  it('a key still transitioning after the wait stops the pass before the Secret and the finalizer', async () => {
    const w = world(apiKeyObject({ metadata: { deletionTimestamp: '2026-11-26T11:00:00Z' } }));
    const key = w.rancher.seed({ id: '1c1', description: marked(), ...PAIR, state: 'active' });
    w.rancher.autoSettle = false;
    const out = await w.run(
      {
        actions: [
          { type: 'RetireKeys', ids: ['1c1'], stopAtRemoved: false },
          { type: 'DeleteSecret' },
          { type: 'RemoveFinalizer' },
        ],
        status: status({ conditions: [{ ...READY, status: 'False', reason: 'Deleting' }] }),
      },
      { keys: [key] },
    );
    // The Deleting status is written because the pass could not finish; nothing after the retirement ran.
    expect(w.journal.ops()).toEqual(['rancher.deactivateKey', 'status']);
    expect(out.finalizerRemoved).toBe(false);
    expect(out.unfinished).toBe(true);
    expect(w.resources.statusWrites()).toHaveLength(1);
  });

  it('a failed Rancher step stops the deletion with a Warning and is retried (nothing deleted)', async () => {
    const w = world(apiKeyObject({ metadata: { deletionTimestamp: '2026-11-26T11:00:00Z' } }));
    const key = w.rancher.seed({ id: '1c1', description: marked(), ...PAIR, state: 'inactive' });
    const live = w.secrets.put(buildSecret(w.apiKey, URL, PAIR));
    w.rancher.failNext('removeKey');
    await expect(
      w.run(
        {
          actions: [
            { type: 'RetireKeys', ids: ['1c1'], stopAtRemoved: false },
            { type: 'DeleteSecret' },
            { type: 'RemoveFinalizer' },
          ],
        },
        { keys: [key], liveSecret: live },
      ),
    ).rejects.toMatchObject({ reason: 'CannotRetireKeys' });
    expect(w.secrets.get('team-a', 'ci')).toBeDefined();
    expect(w.journal.ops()).not.toContain('finalizers');
  });

  it('removing the finalizer of an ApiKey that is already gone counts as done (a pass on a lagging cache)', async () => {
    const w = world(apiKeyObject({ metadata: { deletionTimestamp: '2026-11-26T11:00:00Z' } }));
    w.resources.fail = {
      op: 'finalizers',
      error: new KubeError('update finalizers of apikeys team-a/ci', { code: 404 }),
    };
    const out = await w.run({ actions: [{ type: 'RemoveFinalizer' }] });
    expect(out.finalizerRemoved).toBe(true);
    expect(w.journal.ops().filter((op) => op.startsWith('event'))).toEqual([]);
  });

  it('any other failure to remove the finalizer is reported and retried', async () => {
    const w = world(apiKeyObject({ metadata: { deletionTimestamp: '2026-11-26T11:00:00Z' } }));
    w.resources.fail = {
      op: 'finalizers',
      error: new KubeError('update finalizers of apikeys team-a/ci', { code: 409 }),
    };
    await expect(w.run({ actions: [{ type: 'RemoveFinalizer' }] })).rejects.toMatchObject({
      reason: 'CannotRemoveFinalizer',
    });
  });

  it('DeleteSecret never deletes a Secret that was replaced by another object meanwhile', async () => {
    const w = world();
    const live = w.secrets.put(buildSecret(w.apiKey, URL, PAIR));
    w.secrets.objects.delete('team-a/ci');
    w.secrets.put({ metadata: { name: 'ci', namespace: 'team-a', uid: 'someone-else' }, data: {} });
    await expect(w.run({ actions: [{ type: 'DeleteSecret' }] }, { liveSecret: live })).rejects.toMatchObject({
      reason: 'CannotDeleteSecret',
    });
    expect(w.secrets.get('team-a', 'ci')?.metadata?.uid).toBe('someone-else');
  });

  it('Events name the ApiKey and never carry a secret value', async () => {
    const w = world();
    await w.run({ actions: [{ type: 'CreateKey', supplyValues: true }] });
    const secret = (await w.pairIn()).pair?.secretValue ?? 'missing';
    expect(JSON.stringify(w.journal.writes)).not.toContain(secret);
    expect(w.events.targets[0]).toMatchObject({ kind: 'ApiKey', name: 'ci', namespace: 'team-a', uid: UID });
  });
});
