import { describe, expect, it } from 'vitest';
import { ApiKeySpecSchema, type ApiKeyStatus } from '../../../api/apikey.ts';
import type { KeyView, Observation, RancherView } from '../model.ts';
import { plan } from './plan.ts';

const key = (over: Partial<KeyView> = {}): KeyView => ({
  id: '1c10',
  publicValue: 'OLD00000000000000000',
  state: 'active',
  transitioning: 'no',
  name: 'ci',
  description: 'd',
  accountId: '1a5',
  ownerUid: 'u',
  ...over,
});
const next = key({ id: '1c11', publicValue: 'NEW00000000000000000' });
const rancher = (over: object = {}): RancherView => ({
  checked: true,
  byId: key(),
  bySecret: key(),
  marked: [key()],
  retiring: [],
  byStaging: undefined,
  verified: true,
  stagingVerified: true,
  ...over,
});

function obs(
  over: Partial<Observation> = {},
  status: ApiKeyStatus = { id: '1c10', keyCreatedAt: '2026-10-01T00:00:00Z' },
  spec: object = {},
): Observation {
  return {
    now: '2026-11-26T00:00:00Z',
    apiKey: {
      metadata: {
        name: 'ci',
        namespace: 'a',
        uid: 'u',
        generation: 1,
        finalizers: ['rancher.keyops.dev/finalizer'],
      },
      spec: ApiKeySpecSchema.parse({
        connectionRef: { name: 'r' },
        rotation: { every: '720h', overlap: '10m' },
        ...spec,
      }),
      status,
    },
    deleting: false,
    hasFinalizer: true,
    paused: false,
    desiredName: 'ci',
    desiredDescription: 'd',
    releasedDescription: 'r',
    secretName: 'ci',
    connection: { ok: true, url: 'u', canSupplyValues: true, accountId: '1a1' },
    secret: { state: 'owned', publicValue: 'OLD00000000000000000', intact: true, upToDate: true },
    staging: { state: 'absent' },
    rotateRequested: undefined,
    rancher: rancher(),
    ...over,
  };
}

describe('plan: rotation', () => {
  it('a fresh key gets its next rotation time from its creation time plus spec.rotation.every', () => {
    const p = plan(obs({}, { id: '1c10', keyCreatedAt: '2026-11-20T00:00:00Z' }));
    expect(p.actions).toEqual([]);
    expect(p.status?.rotation?.nextRotationAt).toBe('2026-12-20T00:00:00Z');
  });

  it('a due scheduled rotation stages a new key without touching the consumers’ Secret', () => {
    const due = { id: '1c10', rotation: { nextRotationAt: '2026-11-25T00:00:00Z' } };
    expect(plan(obs({}, due)).actions).toEqual([{ type: 'StageKey', supplyValues: true }]);
  });

  it('an unhandled rotate-requested-at token stages a new key even without a schedule', () => {
    const o = obs({ rotateRequested: 'now-1' }, { id: '1c10' }, { rotation: undefined });
    expect(plan(o).actions).toEqual([{ type: 'StageKey', supplyValues: true }]);
  });

  it('a handled token does not rotate again', () => {
    const o = obs(
      { rotateRequested: 'now-1' },
      { id: '1c10', rotation: { lastHandledRotateAt: 'now-1' } },
      { rotation: undefined },
    );
    expect(plan(o).actions).toEqual([]);
  });

  it('the staged key is waited out while Rancher activates it', () => {
    const o = obs({
      staging: { state: 'present', publicValue: next.publicValue, intact: true },
      rancher: rancher({
        byStaging: { ...next, state: 'registering', transitioning: 'yes' },
        marked: [key(), next],
      }),
      rotateRequested: 't',
    });
    const p = plan(o);
    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBeGreaterThan(0);
  });

  it('an active staged key is promoted; the old key is kept for the overlap and the token is echoed', () => {
    const o = obs({
      staging: { state: 'present', publicValue: next.publicValue, intact: true },
      rancher: rancher({ byStaging: next, marked: [key(), next] }),
      rotateRequested: 't',
    });
    const p = plan(o);
    expect(p.actions).toEqual([{ type: 'PromoteKey', id: '1c11', replaces: '1c10' }]);
    expect(p.status).toMatchObject({ id: '1c11', publicValue: next.publicValue });
    expect(p.status?.retiring).toEqual([
      {
        id: '1c10',
        publicValue: 'OLD00000000000000000',
        reason: 'Rotated',
        notBefore: '2026-11-26T00:10:00Z',
      },
    ]);
    expect(p.status?.rotation?.lastHandledRotateAt).toBe('t');
    expect(p.status?.rotation?.history?.map((h) => [h.id, h.event])).toEqual([
      ['1c10', 'Rotated'],
      ['1c11', 'Created'],
    ]);
  });

  it('the staged key is never mistaken for a stray', () => {
    const o = obs({
      staging: { state: 'present', publicValue: next.publicValue, intact: true },
      rancher: rancher({ byStaging: next, marked: [key(), next] }),
    });
    expect(plan(o).actions.some((a) => a.type === 'DeactivateKey')).toBe(false);
  });

  it('the replaced key stays active during the overlap, then is deactivated', () => {
    const status: ApiKeyStatus = {
      id: '1c11',
      retiring: [
        {
          id: '1c10',
          publicValue: 'OLD00000000000000000',
          reason: 'Rotated',
          notBefore: '2026-11-26T00:10:00Z',
        },
      ],
    };
    const after = {
      secret: { state: 'owned' as const, publicValue: next.publicValue, intact: true, upToDate: true },
      rancher: rancher({ byId: next, bySecret: next, marked: [key(), next], retiring: [key()] }),
    };
    const during = plan(obs(after, status));
    expect(during.actions).toEqual([]);
    expect(during.requeueAfterMs).toBe(600_000);
    const later = plan(obs({ ...after, now: '2026-11-26T00:10:01Z' }, status));
    expect(later.actions).toEqual([{ type: 'DeactivateKey', id: '1c10' }]);
  });

  it('a crash between the status write and the Secret write leaves the old key current and promotes again', () => {
    const status: ApiKeyStatus = {
      id: '1c11',
      retiring: [
        {
          id: '1c10',
          publicValue: 'OLD00000000000000000',
          reason: 'Rotated',
          notBefore: '2026-11-26T00:10:00Z',
        },
      ],
    };
    const o = obs(
      {
        staging: { state: 'present', publicValue: next.publicValue, intact: true },
        rancher: rancher({ byId: next, bySecret: key(), byStaging: next, marked: [key(), next] }),
      },
      status,
    );
    expect(plan(o).actions).toEqual([{ type: 'PromoteKey', id: '1c11', replaces: '1c10' }]);
  });

  it('a staging Secret whose key never got created is staged again', () => {
    const o = obs({
      staging: { state: 'present', publicValue: next.publicValue, intact: true },
      rancher: rancher(),
    });
    expect(plan(o).actions).toEqual([{ type: 'StageKey', supplyValues: true }]);
  });
});

describe('plan: Verified condition', () => {
  const verified = (o: Observation) => plan(o).status?.conditions.find((c) => c.type === 'Verified');

  it('a pair that authenticates is Verified', () => {
    expect(verified(obs())).toMatchObject({ status: 'True', reason: 'Authenticated' });
  });

  it('a rejected pair turns Verified False with a Warning Event, once', () => {
    const o = obs({ rancher: rancher({ verified: false }) });
    expect(verified(o)).toMatchObject({ status: 'False', reason: 'AuthenticationFailed' });
    expect(plan(o).events.map((e) => e.reason)).toEqual(['VerificationFailed']);
    const again = obs(
      { rancher: rancher({ verified: false }) },
      {
        id: '1c10',
        conditions: [
          {
            type: 'Verified',
            status: 'False',
            reason: 'AuthenticationFailed',
            message: 'm',
            lastTransitionTime: 't',
          },
        ],
      },
    );
    expect(plan(again).events).toEqual([]);
  });
});

describe('plan: rotation trusts only a staged key it can prove', () => {
  const staging = { state: 'present', publicValue: 'NEW00000000000000000', intact: true } as const;

  it('a staging Secret naming another ApiKey’s key is never promoted: a new key is staged instead', () => {
    const foreign = key({ id: '1c99', publicValue: 'NEW00000000000000000', ownerUid: 'victim' });
    const p = plan(obs({ staging, rancher: rancher({ byStaging: foreign }) }));
    expect(p.actions).toEqual([{ type: 'StageKey', supplyValues: true }]);
    expect(p.events.map((e) => e.reason)).toContain('SecretTampered');
    expect(p.status?.id).toBe('1c10');
  });

  it('a staged key whose staged pair does not authenticate is not promoted', () => {
    const p = plan(obs({ staging, rancher: rancher({ byStaging: next, stagingVerified: false }) }));
    expect(p.actions.map((a) => a.type)).toEqual(['StageKey']);
  });
});
