import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type ApiKeyStatusSource, registerApiKeyStatusMetrics } from './apikey-status-metrics.ts';

const apiKey = (
  namespace: string,
  name: string,
  rancherState: string | undefined,
  conditions: [string, string][],
): ApiKeyStatusSource => ({
  metadata: { namespace, name },
  status: {
    ...(rancherState === undefined ? {} : { rancherState }),
    conditions: conditions.map(([type, status]) => ({
      type,
      status,
      reason: 'R',
      message: 'm',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    })),
  },
});

function setup(initial: ApiKeyStatusSource[]) {
  const registry = new Registry();
  let keys = initial;
  registerApiKeyStatusMetrics(registry, () => keys);
  const series = async (name: string) =>
    (await registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`))
      .sort();
  return { series, set: (k: ApiKeyStatusSource[]) => (keys = k) };
}

const CONDITION = 'rancher_apikey_operator_apikey_status_condition';
const STATES = 'rancher_apikey_operator_apikeys';

describe('ApiKey status metrics', () => {
  it('reports one series per ApiKey and condition, labelled with the current status only', async () => {
    const m = setup([
      apiKey('team-a', 'ci', 'active', [
        ['Ready', 'True'],
        ['Reconciling', 'False'],
        ['Verified', 'True'],
      ]),
      apiKey('team-b', 'deploy', undefined, [
        ['Ready', 'False'],
        ['Stalled', 'True'],
      ]),
    ]);
    expect(await m.series(CONDITION)).toEqual([
      `${CONDITION}{namespace="team-a",name="ci",condition="Ready",status="True"} 1`,
      `${CONDITION}{namespace="team-a",name="ci",condition="Reconciling",status="False"} 1`,
      `${CONDITION}{namespace="team-a",name="ci",condition="Verified",status="True"} 1`,
      `${CONDITION}{namespace="team-b",name="deploy",condition="Ready",status="False"} 1`,
      `${CONDITION}{namespace="team-b",name="deploy",condition="Stalled",status="True"} 1`,
    ]);
  });

  it('follows a status change (the old status series goes) and drops a deleted ApiKey', async () => {
    const m = setup([apiKey('team-a', 'ci', 'activating', [['Ready', 'False']])]);
    expect(await m.series(CONDITION)).toEqual([
      `${CONDITION}{namespace="team-a",name="ci",condition="Ready",status="False"} 1`,
    ]);
    m.set([apiKey('team-a', 'ci', 'active', [['Ready', 'True']])]);
    expect(await m.series(CONDITION)).toEqual([
      `${CONDITION}{namespace="team-a",name="ci",condition="Ready",status="True"} 1`,
    ]);
    m.set([]);
    expect(await m.series(CONDITION)).toEqual([]);
    expect(await m.series(STATES)).toContain(`${STATES}{state="active"} 0`);
  });

  it('keeps cardinality bounded: unknown condition types, bad statuses and repeats make no series', async () => {
    const m = setup([
      apiKey('team-a', 'ci', 'active', [
        ['Ready', 'True'],
        ['Ready', 'False'],
        ['Attacker-0001', 'True'],
        ['Verified', 'Maybe'],
      ]),
      { metadata: { name: 'no-namespace' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      { metadata: { namespace: 'team-a', name: 'odd' }, status: 'not an object' },
    ]);
    expect(await m.series(CONDITION)).toEqual([
      `${CONDITION}{namespace="team-a",name="ci",condition="Ready",status="True"} 1`,
    ]);
  });

  it('counts ApiKeys per Rancher key state, every state reported, unknown ones as other', async () => {
    const m = setup([
      apiKey('team-a', 'a', 'active', []),
      apiKey('team-a', 'b', 'Active', []),
      apiKey('team-a', 'c', 'inactive', []),
      apiKey('team-a', 'd', undefined, []),
      apiKey('team-a', 'e', 'something-new', []),
    ]);
    const states = await m.series(STATES);
    expect(states).toContain(`${STATES}{state="active"} 2`);
    expect(states).toContain(`${STATES}{state="inactive"} 1`);
    expect(states).toContain(`${STATES}{state="none"} 1`);
    expect(states).toContain(`${STATES}{state="other"} 1`);
    expect(states).toContain(`${STATES}{state="purged"} 0`);
    expect(states).toHaveLength(14);
    m.set([apiKey('team-a', 'c', 'inactive', [])]);
    expect(await m.series(STATES)).toContain(`${STATES}{state="active"} 0`);
  });
});
