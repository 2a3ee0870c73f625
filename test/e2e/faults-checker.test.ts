import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { checkInvariants, waitForInvariants } from '../invariants/checker.ts';
import { type RunRecorder, startRecorder } from '../invariants/recorder.ts';
import {
  apply,
  type FaultRun,
  rancherAction,
  readyOrExplain,
  setUpConnection,
  trackRun,
} from '../invariants/world-helpers.ts';
import { apiKeyManifest } from './support/manifests.ts';
import { eventually, getApiKey, readSecretValues } from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

// The checker is only worth its green runs if it turns red: each case plants one violation in a
// non-empty world (Ready ApiKeys, their Secrets recorded, their keys in Rancher) and shows the checker
// names it. The plants run with the operator stopped, so nothing repairs them behind the checker's back;
// the last case starts it again and shows that the same checker goes green once the world converged.

let world: World;
let run: FaultRun & { adopt(): void };
const NAMES = ['good', 'slow', 'doomed', 'gone'];
const ns = () => world.namespaces[0] ?? '';
const auth = () =>
  `Basic ${Buffer.from(`${world.emulator.admin.accessKey}:${world.emulator.admin.secretKey}`).toString('base64')}`;
const statusId = async (name: string) => (await getApiKey(world.custom, ns(), name))?.status?.id ?? '';

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 1 });
  run = trackRun(world, since);
  await setUpConnection(ns(), world.emulator);
  for (const name of NAMES) await apply(apiKeyManifest(ns(), name, { deletionPolicy: 'Purge' }));
  for (const name of NAMES) await readyOrExplain(world, run, ns(), name);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

/** settledRecorder starts a recorder and waits until it has seen every ApiKey-owned Secret of the namespace. */
async function settledRecorder(): Promise<RunRecorder> {
  const rec = startRecorder(world.kc, [ns()]);
  await eventually('the fresh recorder saw every owned Secret', async () => {
    const owned = (await world.core.listNamespacedSecret({ namespace: ns() })).items.filter((s) =>
      s.metadata?.ownerReferences?.some((o) => o.kind === 'ApiKey'),
    );
    const seen = new Set(rec.secretVersions.map((v) => `${v.name}@${v.resourceVersion}`));
    return owned.every((s) => seen.has(`${s.metadata?.name}@${s.metadata?.resourceVersion}`))
      ? true
      : undefined;
  });
  return rec;
}

const messages = (v: { invariant: number; message: string }[], invariant: number) =>
  v.filter((x) => x.invariant === invariant).map((x) => x.message);

describe('checkInvariants reports planted violations', () => {
  it('a converged, non-empty world has no violation', async () => {
    const input = await run.invariantInput();
    expect(await waitForInvariants(input, 30_000)).toEqual([]);
    expect(await checkInvariants(input)).toEqual([]);
    // Not an empty world: four Ready ApiKeys, their Secrets recorded, their keys live in Rancher.
    const marked = world.emulator.keys().filter((k) => k.description?.includes(`${ns()}/`));
    expect(marked.filter((k) => k.state === 'active')).toHaveLength(NAMES.length);
    expect(new Set(run.recorder.secretVersions.map((v) => v.name))).toEqual(new Set(NAMES));
  });

  it('a secret value in the operator logs, or a secret-shaped token, is invariant 5', async () => {
    const input = await run.invariantInput();
    const known = await checkInvariants({
      ...input,
      operatorLogs: [`{"msg":"x ${world.emulator.admin.secretKey}"}`],
    });
    expect(messages(known, 5).join('\n')).toMatch(/secret value .* appears in operator logs/);
    const shaped = await checkInvariants({
      ...input,
      operatorLogs: ['{"msg":"token abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQR"}'],
    });
    expect(messages(shaped, 5).join('\n')).toMatch(
      /shaped like a secret value \(abcd…\) appears in operator logs/,
    );
  });

  it('an apiserver write during the steady window is invariant 7', async () => {
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
    expect(messages(v, 7).join('\n')).toMatch(/apiserver writes in a 1500 ms steady window \(POST secrets\)/);
  });

  it('a Rancher write during the steady window is invariant 7', async () => {
    const input = await run.invariantInput({ steadyWindowMs: 1_500 });
    let writing = true;
    const ids: string[] = [];
    const writer = (async () => {
      while (writing) {
        const r = await fetch(`${world.emulator.url}/v1/apikeys`, {
          method: 'POST',
          headers: { authorization: auth(), 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'unmarked' }),
        });
        ids.push(((await r.json()) as { id: string }).id);
        await new Promise((res) => setTimeout(res, 300));
      }
    })();
    const v = await checkInvariants(input);
    writing = false;
    await writer;
    expect(messages(v, 7).join('\n')).toMatch(/Rancher writes in a 1500 ms steady window \(POST \/apikeys/);
    for (const id of ids)
      for (const action of ['deactivate', 'remove', 'purge'] as const)
        await rancherAction(world.emulator, id, action);
  });

  it('(the operator is stopped for the plants below)', async () => {
    expect(await world.operator.stop()).toBe(0);
  });

  it('an ApiKey whose current generation was never answered is invariant 1 (not converged)', async () => {
    const r = await kubectl([
      'patch',
      'apikey',
      'slow',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      '{"spec":{"description":"new"}}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const v = await checkInvariants(await run.invariantInput());
    expect(messages(v, 1).join('\n')).toMatch(
      new RegExp(`ApiKey ${ns()}/slow has not converged: Ready=True .*generation 2, observedGeneration 1`),
    );
  });

  it('an ApiKey deleted moments ago whose finalizer is still there is invariant 4 (deletion not finished)', async () => {
    const r = await kubectl(['delete', 'apikey', 'doomed', '-n', ns(), '--wait=false']);
    expect(r.code, r.stderr).toBe(0);
    const v = await checkInvariants(await run.invariantInput());
    expect(messages(v, 4).join('\n')).toMatch(
      new RegExp(`ApiKey ${ns()}/doomed is still being deleted \\(deletionTimestamp \\d+ s ago`),
    );
  });

  it('an orphan marker key of an ApiKey that does not exist is invariant 1', async () => {
    const description = `[managed by rancher-apikey-operator: ${ns()}/ghost apikey-uid:00000000-0000-4000-8000-000000000000]`;
    const r = await fetch(`${world.emulator.url}/v1/apikeys`, {
      method: 'POST',
      headers: { authorization: auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ghost', description }),
    });
    expect(r.status).toBe(201);
    const created = (await r.json()) as { id: string };
    try {
      // The emulator registers a key in a moment: judge it once it is active.
      await eventually('the ghost key active', async () =>
        world.emulator.keys().find((k) => k.id === created.id)?.state === 'active' ? true : undefined,
      );
      const v = await checkInvariants(await run.invariantInput());
      expect(messages(v, 1).join('\n')).toContain(
        `orphan: Rancher key ${created.id} (active) of deleted ApiKey ${ns()}/ghost`,
      );
    } finally {
      for (const action of ['deactivate', 'remove', 'purge'] as const)
        await rancherAction(world.emulator, created.id, action);
    }
  });

  it('a Ready Active ApiKey whose Secret does not authenticate is invariant 2', async () => {
    const id = await statusId('good');
    await rancherAction(world.emulator, id, 'deactivate');
    const v = await checkInvariants(await run.invariantInput());
    expect(messages(v, 2)).toContain(`ApiKey ${ns()}/good: the pair in Secret good does not authenticate`);
    // Left inactive on purpose: the operator, once back, must activate it again (drift) for the last case.
  });

  it('a Secret write that changes one value of the pair without the other is invariant 3', async () => {
    const rec = await settledRecorder();
    try {
      const before = await readSecretValues(world.core, ns(), 'slow');
      const patch = (secretValue: string) =>
        kubectl([
          'patch',
          'secret',
          'slow',
          '-n',
          ns(),
          '--type=merge',
          '-p',
          JSON.stringify({ stringData: { secretValue } }),
        ]);
      expect((await patch('half-written')).code).toBe(0);
      expect((await patch(before?.secretValue ?? '')).code).toBe(0);
      await eventually('both writes recorded', async () =>
        rec.secretVersions.filter((x) => x.name === 'slow').length >= 3 ? true : undefined,
      );
      const v = await checkInvariants({ ...(await run.invariantInput()), recorder: rec });
      expect(messages(v, 3).join('\n')).toMatch(
        new RegExp(`Secret ${ns()}/slow@\\d+ changed one value of the pair without the other`),
      );
    } finally {
      rec.stop();
    }
  });

  it('a Ready ApiKey whose Secret the recorder never saw (a watch that failed quietly) is invariant 3', async () => {
    const blind = startRecorder(world.kc, []); // watches nothing: every version is missed
    try {
      const v = await checkInvariants({ ...(await run.invariantInput()), recorder: blind });
      expect(messages(v, 3).join('\n')).toMatch(
        new RegExp(`ApiKey ${ns()}/gone: the recorder never saw Secret gone@\\d+`),
      );
    } finally {
      blind.stop();
    }
  });

  it('a deleted ApiKey (deletionPolicy Purge) whose key is only removed is invariant 4', async () => {
    const id = await statusId('gone');
    await rancherAction(world.emulator, id, 'deactivate');
    await rancherAction(world.emulator, id, 'remove');
    const strip = await kubectl([
      'patch',
      'apikey',
      'gone',
      '-n',
      ns(),
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    expect(strip.code, strip.stderr).toBe(0);
    const del = await kubectl(['delete', 'apikey', 'gone', '-n', ns(), '--timeout=30s']);
    expect(del.code, del.stderr).toBe(0);
    const v = await checkInvariants(await run.invariantInput());
    expect(messages(v, 4)).toContain(
      `orphan: Rancher key ${id} (removed) of deleted ApiKey ${ns()}/gone (policy Purge)`,
    );
    await rancherAction(world.emulator, id, 'purge');
  });

  it('a Secret written by the operator outside the ApiKey namespaces is invariant 6', async () => {
    const name = `planted-${Date.now()}`;
    const r = await kubectl([
      'create',
      'secret',
      'generic',
      name,
      '-n',
      'default',
      '--from-literal=a=b',
      '--field-manager=rancher-apikey-operator',
    ]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const v = await checkInvariants(await run.invariantInput());
      expect(messages(v, 6)).toContain(`the operator wrote Secret default/${name}`);
    } finally {
      await kubectl(['delete', 'secret', name, '-n', 'default']);
    }
  });

  it('once the operator runs again, the same checker finds the world converged and every invariant holding', async () => {
    await world.restartOperator();
    run.adopt();
    // The Secret history of this run holds the planted half-written pair: judge with a recorder started now.
    const rec = await settledRecorder();
    try {
      const v = await waitForInvariants(
        async () => ({ ...(await run.invariantInput()), recorder: rec }),
        60_000,
      );
      expect(v).toEqual([]);
    } finally {
      rec.stop();
    }
    expect(await getApiKey(world.custom, ns(), 'doomed')).toBeUndefined();
  });
});
