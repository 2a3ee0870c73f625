// The per-ApiKey metrics the alerts use, scraped from the running operator: the condition series follow the
// ApiKey's status and go with it, and rancher_apikey_operator_apikeys{state} counts it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { designManifests } from './support/manifests.ts';
import { eventually } from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ namespaceCount: 1 });
  await world.operator.waitReady();
});
afterAll(async () => {
  await world?.stop();
});

const CONDITION = 'rancher_apikey_operator_apikey_status_condition';
const lines = async (prefix: string) =>
  (await world.operator.metrics()).split('\n').filter((l) => l.startsWith(prefix));

describe('ApiKey status metrics from the running operator', () => {
  it('reports Ready=True for a Ready ApiKey, counts it active, and drops its series once it is deleted', async () => {
    const ns = world.namespaces[0] ?? '';
    const applied = await kubectl(['apply', '-f', '-'], { input: designManifests(ns, world.emulator) });
    expect(applied.code, applied.stderr).toBe(0);
    const wait = await kubectl([
      'wait',
      '--for=condition=Ready',
      '--timeout=60s',
      '-n',
      ns,
      'apikey/ci-deployer',
    ]);
    expect(wait.code, wait.stderr).toBe(0);

    const ready = `${CONDITION}{namespace="${ns}",name="ci-deployer",condition="Ready",status="True"} 1`;
    await eventually('the Ready=True series', async () =>
      (await lines(CONDITION)).includes(ready) ? true : undefined,
    );
    const series = await lines(`${CONDITION}{namespace="${ns}",name="ci-deployer"`);
    const conditions = series.map((l) => l.match(/condition="(\w+)"/)?.[1]);
    expect(new Set(conditions).size).toBe(conditions.length); // one series per condition
    expect(await lines('rancher_apikey_operator_apikeys{state="active"}')).toEqual([
      'rancher_apikey_operator_apikeys{state="active"} 1',
    ]);

    const deleted = await kubectl(['delete', '-n', ns, 'apikey/ci-deployer', '--wait=true', '--timeout=60s']);
    expect(deleted.code, deleted.stderr).toBe(0);
    await eventually('the series to go', async () =>
      (await lines(`${CONDITION}{namespace="${ns}"`)).length === 0 ? true : undefined,
    );
    expect(await lines('rancher_apikey_operator_apikeys{state="active"}')).toEqual([
      'rancher_apikey_operator_apikeys{state="active"} 0',
    ]);
  });
});
