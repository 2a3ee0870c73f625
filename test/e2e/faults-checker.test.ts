import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../invariants/checker.ts';
import { type FaultRun, setUpConnection, trackRun } from '../invariants/world-helpers.ts';
import { startWorld, type World } from './support/world.ts';

// The checker is only worth its green runs if it turns red: each case plants one violation.

let world: World;
let run: FaultRun & { adopt(): void };
beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 1 });
  run = trackRun(world, since);
  await setUpConnection(world.namespaces[0] ?? '', world.emulator);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

const ns = () => world.namespaces[0] ?? '';
const auth = () =>
  `Basic ${Buffer.from(`${world.emulator.admin.accessKey}:${world.emulator.admin.secretKey}`).toString('base64')}`;

describe('checkInvariants reports planted violations', () => {
  it('a clean world has no violation', async () => {
    expect(await checkInvariants(await run.invariantInput())).toEqual([]);
  });

  it('an orphan marker key of an ApiKey that does not exist is invariant 1', async () => {
    const description = `[managed by rancher-apikey-operator: ${ns()}/ghost apikey-uid:00000000-0000-4000-8000-000000000000]`;
    const r = await fetch(`${world.emulator.url}/v1/apikeys`, {
      method: 'POST',
      headers: { authorization: auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ghost', description }),
    });
    const created = (await r.json()) as { id: string; secretValue: string };
    const v = await checkInvariants(await run.invariantInput());
    expect(v.map((x) => x.invariant)).toContain(1);
    expect(v.find((x) => x.invariant === 1)?.message).toContain(created.id);
    for (const action of ['deactivate', 'remove', 'purge']) {
      await new Promise((res) => setTimeout(res, 150));
      await fetch(`${world.emulator.url}/v1/apikeys/${created.id}/?action=${action}`, {
        method: 'POST',
        headers: { authorization: auth() },
      });
    }
  });

  it('a secret value in the operator logs, or a secret-shaped token, is invariant 5', async () => {
    const input = await run.invariantInput();
    const known = await checkInvariants({
      ...input,
      operatorLogs: [`{"msg":"x ${world.emulator.admin.secretKey}"}`],
    });
    expect(known.map((x) => x.message).join('\n')).toMatch(/secret value .* appears in operator logs/);
    const shaped = await checkInvariants({
      ...input,
      operatorLogs: ['{"msg":"token abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQR"}'],
    });
    expect(shaped.map((x) => x.invariant)).toContain(5);
  });

  it('a write during the steady window is invariant 7', async () => {
    const input = await run.invariantInput({ steadyWindowMs: 1_500 });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await world.core.createNamespacedSecret({
          namespace: ns(),
          body: { metadata: { name: `steady-breaker-${i}` }, stringData: { a: 'b' } },
        });
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const v = await checkInvariants(input);
    writing = false;
    await writer;
    expect(v.map((x) => x.message).join('\n')).toMatch(
      /apiserver writes in a 1500 ms steady window \(POST secrets\)/,
    );
  });
});
