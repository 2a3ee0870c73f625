import { describe, expect, it } from 'vitest';
import type { ApiKeyStatus } from '../../../api/apikey.ts';
import type { Observation, RancherView } from '../model.ts';
import { keyView, observation } from './observation.test-support.ts';
import { plan } from './plan.ts';

const key = keyView;

const checked = (over: Partial<Extract<RancherView, { byId: unknown }>> = {}): RancherView => ({
  checked: true,
  byId: undefined,
  bySecret: undefined,
  marked: [],
  retiring: [],
  byStaging: undefined,
  verified: undefined,
  ...over,
});

function obs(
  over: Partial<Observation> = {},
  spec: object = {},
  status: ApiKeyStatus | undefined = { id: '1c10' },
): Observation {
  const rancher = checked({ byId: key(), bySecret: key(), marked: [key()] });
  return observation(spec, status, key(), { rancher, ...over });
}

const types = (o: Observation) => plan(o).actions.map((a) => a.type);
const ready = (o: Observation) => plan(o).status?.conditions.find((c) => c.type === 'Ready');

describe('plan: live ApiKey', () => {
  it('a new ApiKey gets the finalizer and a create with supplied values when the credentials may supply them', () => {
    const o = obs({ hasFinalizer: false, secret: { state: 'absent' }, rancher: checked() });
    expect(plan(o).actions).toEqual([{ type: 'AddFinalizer' }, { type: 'CreateKey', supplyValues: true }]);
    expect(ready(o)?.reason).toBe('Creating');
  });

  it('credentials that cannot supply values create without them', () => {
    const o = obs({
      secret: { state: 'absent' },
      rancher: checked(),
      connection: { ok: true, url: 'http://r', canSupplyValues: false, accountId: '1a2' },
    });
    expect(plan(o).actions).toEqual([{ type: 'CreateKey', supplyValues: false }]);
  });

  it('a Secret owned by someone else stalls with SecretConflict and nothing is created', () => {
    const p = plan(obs({ secret: { state: 'foreign', owner: 'Deployment/web' }, rancher: checked() }));
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions.map((c) => [c.type, c.reason])).toEqual([
      ['Ready', 'SecretConflict'],
      ['Stalled', 'SecretConflict'],
    ]);
    expect(p.events[0]).toMatchObject({ type: 'Warning', reason: 'SecretConflict' });
  });

  it('a connection the namespace may not use is terminal and creates nothing', () => {
    const o = obs({
      rancher: { checked: false },
      connection: { ok: false, reason: 'NamespaceNotAllowed', message: 'not allowed', terminal: true },
    });
    const p = plan(o);
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions.find((c) => c.type === 'Stalled')?.reason).toBe('NamespaceNotAllowed');
    expect(p.requeueAfterMs).toBeUndefined();
  });

  it('a missing connection waits and retries later without creating anything', () => {
    const o = obs({ connection: { ok: false, reason: 'ConnectionNotFound', message: 'x', terminal: false } });
    const p = plan(o);
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions.map((c) => c.type)).toEqual(['Ready', 'Reconciling']);
    expect(p.requeueAfterMs).toBe(30_000);
  });

  it('the same warning is not emitted twice in a row', () => {
    const status: ApiKeyStatus = {
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ConnectionNotFound',
          message: 'x',
          lastTransitionTime: 't',
        },
      ],
    };
    const o = obs(
      { connection: { ok: false, reason: 'ConnectionNotFound', message: 'x', terminal: false } },
      {},
      status,
    );
    expect(plan(o).events).toEqual([]);
  });

  it('a converged active key with an intact Secret plans no writes and reports Ready', () => {
    const p = plan(obs());
    expect(p.actions).toEqual([]);
    expect(ready(obs())).toMatchObject({ status: 'True', reason: 'KeyActive' });
    expect(p.status).toMatchObject({
      id: '1c10',
      publicValue: 'AAAAAAAAAAAAAAAAAAAA',
      rancherState: 'active',
    });
    expect(p.requeueAfterMs).toBeUndefined();
  });

  it('when Rancher is not consulted (steady state) nothing is written, not even status', () => {
    const p = plan(obs({ rancher: { checked: false } }));
    expect(p.actions).toEqual([]);
    expect(p.status).toBeUndefined();
  });

  it('desired Inactive deactivates an active key', () => {
    expect(plan(obs({}, { state: 'Inactive' })).actions).toEqual([{ type: 'DeactivateKey', id: '1c10' }]);
  });

  it('desired Active activates an inactive key', () => {
    const k = key({ state: 'inactive' });
    expect(types(obs({ rancher: checked({ byId: k, bySecret: k }) }))).toEqual(['ActivateKey']);
  });

  it('an Inactive key that is inactive is Ready with reason KeyInactive', () => {
    const k = key({ state: 'inactive' });
    expect(ready(obs({ rancher: checked({ byId: k, bySecret: k }) }, { state: 'Inactive' }))?.reason).toBe(
      'KeyInactive',
    );
  });

  it('a changed name or description is updated in place with PUT', () => {
    const p = plan(obs({ desiredName: 'ci2', desiredDescription: 'new [marker]' }));
    expect(p.actions).toEqual([{ type: 'UpdateKey', id: '1c10', name: 'ci2', description: 'new [marker]' }]);
  });

  it('a registering key is waited out with a short requeue, no Rancher write and no status write', () => {
    const k = key({ state: 'registering', transitioning: 'yes' });
    const p = plan(obs({ rancher: checked({ byId: k, bySecret: k }) }));
    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBeGreaterThan(0);
    expect(p.status).toBeUndefined();
  });

  it('a deleted Secret retires the old key as SecretLost and creates a new one', () => {
    const p = plan(obs({ secret: { state: 'absent' }, rancher: checked({ byId: key(), bySecret: key() }) }));
    expect(types(obs({ secret: { state: 'absent' } }))).toEqual(['CreateKey']);
    expect(p.status?.retiring).toEqual([
      { id: '1c10', publicValue: 'AAAAAAAAAAAAAAAAAAAA', reason: 'SecretLost' },
    ]);
  });

  it('a Secret whose secret value was tampered with counts as lost: new key, old one retired', () => {
    const o = obs({
      secret: { state: 'owned', publicValue: 'AAAAAAAAAAAAAAAAAAAA', intact: false, upToDate: false },
    });
    expect(types(o)).toEqual(['CreateKey']);
  });

  it('tampered non-secret data (keys, url, labels) is rewritten from the intact values', () => {
    const o = obs({
      secret: { state: 'owned', publicValue: 'AAAAAAAAAAAAAAAAAAAA', intact: true, upToDate: false },
    });
    expect(types(o)).toEqual(['WriteSecret']);
  });

  it('a stray key from a lost create is deactivated once the current key is healthy', () => {
    const stray = key({ id: '1c9', publicValue: 'BBBBBBBBBBBBBBBBBBBB' });
    const p = plan(obs({ rancher: checked({ byId: key(), bySecret: key(), marked: [key(), stray] }) }));
    expect(p.actions).toEqual([{ type: 'DeactivateKey', id: '1c9' }]);
    expect(p.status?.retiring).toEqual([{ id: '1c9', publicValue: 'BBBBBBBBBBBBBBBBBBBB', reason: 'Stray' }]);
    expect(
      ready(obs({ rancher: checked({ byId: key(), bySecret: key(), marked: [key(), stray] }) }))?.status,
    ).toBe('True');
  });

  it('a removed old key is purged and then dropped from status.retiring', () => {
    const removed = key({ id: '1c9', publicValue: 'B', state: 'removed' });
    // The ApiKey's status lists the old key as retiring, as it does once a replaced key is being retired.
    const status: ApiKeyStatus = {
      id: '1c10',
      retiring: [{ id: '1c9', publicValue: 'B', reason: 'Rotated' }],
    };
    const removing = plan(
      obs({ rancher: checked({ byId: key(), bySecret: key(), retiring: [removed] }) }, {}, status),
    );
    expect(removing.actions).toEqual([{ type: 'PurgeKey', id: '1c9' }]);
    expect(removing.status?.retiring).toEqual([{ id: '1c9', publicValue: 'B', reason: 'Rotated' }]);
    // Once purged, observe no longer returns the key: the entry leaves status.retiring.
    const purged = plan(
      obs({ rancher: checked({ byId: key(), bySecret: key(), retiring: [] }) }, {}, status),
    );
    expect(purged.status?.retiring).toBeUndefined();
    expect(purged.actions).toEqual([]);
  });

  it('a key deactivated out of band is activated again (drift)', () => {
    const k = key({ state: 'inactive' });
    expect(types(obs({ rancher: checked({ byId: k, bySecret: k }) }))).toEqual(['ActivateKey']);
  });

  it('a key removed out of band is replaced by a new key', () => {
    const k = key({ state: 'removed' });
    expect(types(obs({ rancher: checked({ byId: k, bySecret: undefined, marked: [k] }) }))).toEqual([
      'CreateKey',
    ]);
  });

  it('an unreachable Rancher is a retryable failure: no writes, Ready False RancherUnavailable', () => {
    const p = plan(
      obs({
        rancher: {
          checked: true,
          error: {
            code: 'Transport',
            reason: 'RancherUnavailable',
            message: 'cannot reach Rancher',
            retryable: true,
          },
        },
      }),
    );
    expect(p.actions).toEqual([]);
    expect(p.retry).toBe(true);
    expect(p.status?.conditions[0]?.reason).toBe('RancherUnavailable');
  });

  it('a Rancher answer beyond the list limits stalls with the reason observe mapped (RancherResponseTooLarge)', () => {
    const error = {
      code: 'LimitExceeded',
      reason: 'RancherResponseTooLarge',
      message: 'over 100 keys',
      retryable: false,
    };
    const p = plan(obs({ rancher: { checked: true, error } }));
    expect(p.actions).toEqual([]);
    expect(p.retry).toBe(false);
    expect(p.status?.conditions.map((c) => [c.type, c.reason])).toContainEqual([
      'Stalled',
      'RancherResponseTooLarge',
    ]);
  });

  it('wrong credentials are terminal: Stalled RancherUnauthorized', () => {
    const p = plan(
      obs({
        rancher: {
          checked: true,
          error: { code: 'Unauthorized', reason: 'RancherUnauthorized', message: '401', retryable: false },
        },
      }),
    );
    expect(p.status?.conditions.map((c) => c.type)).toContain('Stalled');
    expect(p.status?.conditions[0]?.reason).toBe('RancherUnauthorized');
  });

  it('a paused ApiKey is left alone entirely', () => {
    const p = plan(obs({ paused: true, secret: { state: 'absent' }, rancher: checked() }));
    expect(p).toMatchObject({ actions: [], status: undefined, events: [] });
  });
});

describe('plan: ownership is proven, never taken from the tenant-writable Secret', () => {
  const victim = key({ id: '1c77', publicValue: 'VICTIMVICTIMVICTIM00', ownerUid: 'victim-uid' });
  const tampered = {
    state: 'owned',
    publicValue: 'VICTIMVICTIMVICTIM00',
    intact: true,
    upToDate: true,
  } as const;

  it('a Secret naming another ApiKey’s key is reported as tampered and answered by a new key', () => {
    const p = plan(
      obs(
        { secret: tampered, rancher: checked({ byId: key(), bySecret: victim, verified: false }) },
        { state: 'Inactive' },
      ),
    );
    expect(p.actions).toEqual([{ type: 'CreateKey', supplyValues: true }]);
    expect(p.events.map((e) => e.reason)).toEqual(['SecretTampered']);
    expect(p.status?.conditions[0]).toMatchObject({ status: 'False', reason: 'SecretTampered' });
    expect(JSON.stringify(p.status?.retiring ?? [])).not.toContain('1c77');
  });

  it('even a pair that authenticates does not make a key without this ApiKey’s marker current', () => {
    const p = plan(obs({ secret: tampered, rancher: checked({ bySecret: victim, verified: true }) }, {}, {}));
    expect(
      types(obs({ secret: tampered, rancher: checked({ bySecret: victim, verified: true }) }, {}, {})),
    ).toEqual(['CreateKey']);
    expect(p.actions.some((a) => 'id' in a && a.id === '1c77')).toBe(false);
  });

  it('a key with this ApiKey’s marker and a pair that authenticates is adopted when status lost its id', () => {
    const p = plan(obs({ rancher: checked({ bySecret: key(), verified: true }) }, {}, {}));
    expect(p.actions).toEqual([]);
    expect(p.status?.id).toBe('1c10');
  });

  it('a key with this ApiKey’s marker whose pair does not authenticate is not adopted', () => {
    expect(types(obs({ rancher: checked({ bySecret: key(), verified: false }) }, {}, {}))).toEqual([
      'CreateKey',
    ]);
  });

  it('deleting never retires the key a tampered Secret names', () => {
    const p = plan(
      obs({
        deleting: true,
        secret: tampered,
        rancher: checked({ byId: key({ state: 'purged' }), bySecret: victim }),
      }),
    );
    expect(p.actions.map((a) => a.type)).toEqual(['DeleteSecret', 'RemoveFinalizer']);
  });
});

describe('plan: the finalizer guards Rancher writes only', () => {
  const broken = {
    ok: false,
    reason: 'ConnectionNotFound',
    message: 'RancherConnection x not found',
    terminal: false,
  } as const;

  it('an ApiKey whose connection never worked gets no finalizer', () => {
    const o = obs(
      { hasFinalizer: false, connection: broken, secret: { state: 'absent' }, rancher: { checked: false } },
      {},
      {},
    );
    expect(plan(o).actions).toEqual([]);
  });

  it('an ApiKey whose Rancher refuses (forbidden environment) gets no finalizer', () => {
    const o = obs(
      {
        hasFinalizer: false,
        secret: { state: 'absent' },
        rancher: {
          checked: true,
          error: { code: 'Forbidden', reason: 'RancherForbidden', message: 'no access', retryable: false },
        },
      },
      {},
      {},
    );
    expect(plan(o).actions).toEqual([]);
  });

  it('a key recorded in status without the finalizer gets it back', () => {
    expect(types(obs({ hasFinalizer: false }))).toEqual(['AddFinalizer']);
  });

  it('deleting an ApiKey that never reached Rancher finishes at once while its connection is broken', () => {
    const p = plan(
      obs(
        { deleting: true, connection: broken, secret: { state: 'absent' }, rancher: { checked: false } },
        {},
        {},
      ),
    );
    expect(p.actions.map((a) => a.type)).toEqual(['RemoveFinalizer']);
    expect(p.events[0]?.reason).toBe('DeletedWithoutRancher');
    expect(p.retry).toBe(false);
  });

  it('deleting with a broken connection still waits when the Secret holds a pair (a create may have happened)', () => {
    const p = plan(obs({ deleting: true, connection: broken, rancher: { checked: false } }, {}, {}));
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions[0]?.reason).toBe('DeletionBlocked');
  });
});

describe('plan: deleted ApiKey', () => {
  const del = (over: Partial<Observation>, policy = 'Purge') =>
    obs({ deleting: true, ...over }, { deletionPolicy: policy });

  it('Purge: an active key is retired in one pass (all its steps), then the Secret and the finalizer go', () => {
    const p = plan(del({}));
    expect(p.actions).toEqual([
      { type: 'RetireKeys', ids: ['1c10'], stopAtRemoved: false },
      { type: 'DeleteSecret' },
      { type: 'RemoveFinalizer' },
    ]);
    // Written only if the pass cannot finish (the executor skips it once the finalizer is gone).
    expect(p.status?.conditions[0]?.reason).toBe('Deleting');
    expect(p.events).toEqual([]);
  });

  it('Purge: an inactive or removed key still has steps left; Remove stops at removed', () => {
    const inactive = key({ state: 'inactive' });
    expect(types(del({ rancher: checked({ byId: inactive }) }))[0]).toBe('RetireKeys');
    const removed = key({ state: 'removed' });
    expect(plan(del({ rancher: checked({ byId: removed }) })).actions[0]).toEqual({
      type: 'RetireKeys',
      ids: ['1c10'],
      stopAtRemoved: false,
    });
    expect(plan(del({ rancher: checked({ byId: inactive }) }, 'Remove')).actions[0]).toEqual({
      type: 'RetireKeys',
      ids: ['1c10'],
      stopAtRemoved: true,
    });
  });

  it('Purge: once purged, the Secret is deleted and then the finalizer removed', () => {
    const purged = key({ state: 'purged' });
    expect(types(del({ rancher: checked({ byId: purged }) }))).toEqual(['DeleteSecret', 'RemoveFinalizer']);
  });

  it('Remove: stops at removed and releases the ApiKey', () => {
    const removed = key({ state: 'removed' });
    expect(types(del({ rancher: checked({ byId: removed }) }, 'Remove'))).toEqual([
      'DeleteSecret',
      'RemoveFinalizer',
    ]);
  });

  it('Orphan: first replaces the ownership marker in the description, so the key is no orphan to report', () => {
    expect(plan(del({}, 'Orphan')).actions).toEqual([
      { type: 'UpdateKey', id: '1c10', name: 'ci', description: 'desc [released]' },
    ]);
  });

  it('Orphan: once released, deletes the Secret and removes the finalizer, leaving the key active', () => {
    const released = key({ description: 'desc [released]' });
    const p = plan(del({ rancher: checked({ byId: released, bySecret: released }) }, 'Orphan'));
    expect(p.actions.map((a) => a.type)).toEqual(['DeleteSecret', 'RemoveFinalizer']);
    expect(p.events[0]?.reason).toBe('OrphanedKey');
  });

  it('Orphan: without Rancher access it still lets go of the ApiKey', () => {
    const p = plan(del({ rancher: { checked: false } }, 'Orphan'));
    expect(p.actions.map((a) => a.type)).toEqual(['DeleteSecret', 'RemoveFinalizer']);
    expect(p.events[0]?.reason).toBe('OrphanedKey');
  });

  it('a key already gone in Rancher does not block: finalizer removed', () => {
    expect(types(del({ rancher: checked(), secret: { state: 'absent' } }))).toEqual(['RemoveFinalizer']);
  });

  it('stray keys are retired too before the finalizer goes', () => {
    const stray = key({ id: '1c9', state: 'inactive' });
    expect(plan(del({ rancher: checked({ marked: [stray] }) })).actions).toEqual([
      { type: 'RetireKeys', ids: ['1c9'], stopAtRemoved: false },
      { type: 'DeleteSecret' },
      { type: 'RemoveFinalizer' },
    ]);
  });

  it('a broken connection keeps the finalizer and retries with backoff', () => {
    const p = plan(
      del({ connection: { ok: false, reason: 'ConnectionNotFound', message: 'gone', terminal: false } }),
    );
    expect(p.actions).toEqual([]);
    expect(p.retry).toBe(true);
    expect(p.status?.conditions[0]?.reason).toBe('DeletionBlocked');
  });

  it('a Secret owned by someone else is never deleted', () => {
    const purged = key({ state: 'purged' });
    const o = del({ rancher: checked({ byId: purged }), secret: { state: 'foreign', owner: 'x' } });
    expect(types(o)).toEqual(['RemoveFinalizer']);
  });
});
