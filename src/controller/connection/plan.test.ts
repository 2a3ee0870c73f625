import { describe, expect, it } from 'vitest';
import type { RancherApiKey } from '../../rancher/index.ts';
import type { ConnectionObservation } from './observe.ts';
import type { OrphanKey } from './orphans.ts';
import { CLEANING_RECHECK_MS, NOT_READY_RECHECK_MS, planConnection, recheckAfterMs } from './plan.ts';

const NOW = '2030-01-01T00:00:00Z';
const ok = {
  view: { ok: true as const, url: 'https://r', canSupplyValues: true, accountId: '1a1' },
  identity: { accountId: '1a1', accountKind: 'admin', canSupplyValues: true },
  client: {} as ConnectionObservation['resolved']['client'],
};
const refused = {
  view: { ok: false as const, reason: 'RancherUnauthorized', message: 'rejected', terminal: true },
};
const readyTrue = {
  type: 'Ready',
  status: 'True' as const,
  reason: 'CredentialsValid',
  message: 'authenticated as Rancher account 1a1 (admin); may supply key values (crash-safe create)',
  lastTransitionTime: '2029-01-01T00:00:00Z',
  observedGeneration: 1,
};
const orphan = (id: string, state = 'active'): OrphanKey => ({
  key: { id, publicValue: `PV${id}`, state } as RancherApiKey,
  apiKey: 'team-b/gone',
});

function obs(over: Partial<ConnectionObservation> = {}): ConnectionObservation {
  return {
    id: { kind: 'RancherConnection', namespace: 'team-b', name: 'rancher' },
    now: NOW,
    uid: 'c1',
    generation: 1,
    status: {
      observedGeneration: 1,
      conditions: [readyTrue],
      accountId: '1a1',
      accountKind: 'admin',
      canSupplyValues: true,
      orphans: { count: 0, keys: [] },
    },
    deletesOrphans: false,
    resolved: ok,
    found: [],
    ...over,
  };
}

describe('planConnection', () => {
  it('a working connection whose status already says so writes nothing', () => {
    const p = planConnection(obs());
    expect(p).toEqual({
      clean: [],
      orphans: { label: 'RancherConnection/team-b/rancher', count: 0 },
      status: undefined,
      warning: undefined,
    });
  });

  it('a new connection reports Ready with whose credentials they are and whether they may supply values', () => {
    const p = planConnection(obs({ status: {} }));
    expect(p.status).toMatchObject({
      observedGeneration: 1,
      accountId: '1a1',
      accountKind: 'admin',
      canSupplyValues: true,
    });
    expect(p.status?.conditions[0]).toMatchObject({
      type: 'Ready',
      status: 'True',
      reason: 'CredentialsValid',
      lastTransitionTime: NOW,
    });
  });

  it('refused credentials report Ready=False with the reason and clear the identity, keeping the last inventory', () => {
    const inventory = { count: 1, keys: [{ id: '1c9', publicValue: 'PV', apiKey: 'team-b/gone' }] };
    const p = planConnection(
      obs({ resolved: refused, found: undefined, status: { ...obs().status, orphans: inventory } }),
    );
    expect(p.status?.conditions[0]).toMatchObject({ status: 'False', reason: 'RancherUnauthorized' });
    expect(p.status).toMatchObject({
      accountId: null,
      accountKind: null,
      canSupplyValues: null,
      orphans: inventory,
    });
    expect(p.warning).toBeUndefined();
  });

  it('a new generation alone is written', () => {
    expect(planConnection(obs({ generation: 2 })).status?.observedGeneration).toBe(2);
  });

  it('new live orphans are reported in status and warned about once; removed ones are not counted', () => {
    const p = planConnection(obs({ found: [orphan('1c1'), orphan('1c2', 'removed')] }));
    expect(p.status?.orphans).toEqual({
      count: 1,
      keys: [{ id: '1c1', publicValue: 'PV1c1', apiKey: 'team-b/gone' }],
    });
    expect(p.orphans.count).toBe(1);
    expect(p.warning).toContain('1 Rancher key(s)');
    expect(p.warning).toContain('set spec.orphanPolicy: Delete');
    expect(p.clean).toEqual([]);
  });

  it('the same orphan count as last time is not warned about again', () => {
    const inventory = { count: 1, keys: [{ id: '1c1', publicValue: 'PV1c1', apiKey: 'team-b/gone' }] };
    const p = planConnection(
      obs({ found: [orphan('1c1')], status: { ...obs().status, orphans: inventory } }),
    );
    expect(p.warning).toBeUndefined();
    expect(p.status).toBeUndefined();
  });

  it('orphanPolicy Delete retires every listed orphan, removed ones included', () => {
    const found = [orphan('1c1'), orphan('1c2', 'removed')];
    const p = planConnection(obs({ found, deletesOrphans: true }));
    expect(p.clean).toEqual(found);
    expect(p.warning).toContain('retiring them');
  });

  it('a cluster connection is labelled without a namespace', () => {
    const p = planConnection(
      obs({ id: { kind: 'ClusterRancherConnection', namespace: '', name: 'shared' } }),
    );
    expect(p.orphans.label).toBe('ClusterRancherConnection/shared');
  });
});

describe('recheckAfterMs', () => {
  it.each([
    ['a Ready connection waits the recheck interval', true, 0, 600_000, 600_000],
    [
      'a connection that is not Ready is checked again within seconds',
      false,
      0,
      600_000,
      NOT_READY_RECHECK_MS,
    ],
    [
      'orphans still being retired are looked at again within a second',
      true,
      2,
      600_000,
      CLEANING_RECHECK_MS,
    ],
    ['a short recheck interval stays short while not Ready', false, 0, 2_000, 2_000],
  ])('%s', (_name, ready, cleaning, recheck, expected) => {
    expect(recheckAfterMs(ready, cleaning, recheck)).toBe(expected);
  });
});
