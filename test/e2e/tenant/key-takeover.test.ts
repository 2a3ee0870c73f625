import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../../src/api/names.ts';
import { kubectl } from '../../control-plane/testing.ts';
import type { InspectedKey } from '../../emulator/model.ts';
import { apply, setUpConnection } from '../../invariants/world-helpers.ts';
import { apiKeyManifest } from '../support/manifests.ts';
import {
  authenticates,
  condition,
  eventually,
  getApiKey,
  readSecretValues,
  waitForCondition,
} from '../support/wait.ts';
import { startWorld, type World } from '../support/world.ts';

// Tenant isolation, attack 1 of issue 11: team b (who may write ApiKeys, connections and Secrets in its own
// namespace only) edits what it owns, its output Secret and a forged rotation staging Secret, to point the
// operator at team a's Rancher key or at the shared admin credential. Every test asserts what the victim
// observes: its key's state, name and description unchanged in Rancher, its Secret still authenticating and
// its ApiKey still Ready.

let world: World;
const teamA = () => world.namespaces[0] ?? '';
const teamB = () => world.namespaces[1] ?? '';

beforeAll(async () => {
  world = await startWorld({ namespaceCount: 2 });
  // Both teams use the same admin credentials (the worst case: both see every key of the account).
  await setUpConnection(teamA(), world.emulator);
  await setUpConnection(teamB(), world.emulator);
  await apply(apiKeyManifest(teamA(), 'victim', { environment: env() }));
  await waitForCondition(world.custom, teamA(), 'victim', 'Ready', 'True');
});
afterAll(async () => {
  await world?.stop();
});

const env = () => world.emulator.environments[0]?.id ?? '1a5';
const digest = (v: string) => `sha256:${createHash('sha256').update(v, 'utf8').digest('hex')}`;
const snapshot = (k: InspectedKey | undefined) =>
  k && { id: k.id, state: k.state, name: k.name, description: k.description };
const keyById = (id: string | undefined) => world.emulator.keys().find((k) => k.id === id);

async function victim() {
  const k = await getApiKey(world.custom, teamA(), 'victim');
  const values = await readSecretValues(world.core, teamA(), 'victim');
  return { apiKey: k, key: keyById(k?.status?.id), values };
}

/** expectVictimUntouched checks everything team a can observe against the snapshot taken before the attack. */
async function expectVictimUntouched(before: Awaited<ReturnType<typeof victim>>) {
  const now = await victim();
  expect(snapshot(now.key)).toEqual(snapshot(before.key));
  expect(now.key?.state).toBe('active');
  expect(condition(now.apiKey, 'Ready')?.status).toBe('True');
  expect(now.apiKey?.status?.id).toBe(before.apiKey?.status?.id);
  const v = now.values ?? {};
  expect(await authenticates(world.emulator.url, v.publicValue ?? '', v.secretValue ?? '')).toBe(true);
}

async function events(ns: string, name: string): Promise<string> {
  const r = await kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`]);
  return r.stdout;
}

/** forgeSecret rewrites a Secret team b owns so it names `publicValue`, with a made-up secret and its digest. */
async function forgeSecret(ns: string, name: string, publicValue: string): Promise<void> {
  const fake = `made-up-${Math.random().toString(36).slice(2)}`;
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');
  const patch = {
    metadata: {
      annotations: { [ANNOTATIONS.publicValue]: publicValue, [ANNOTATIONS.secretDigest]: digest(fake) },
    },
    data: { publicValue: b64(publicValue), secretValue: b64(fake) },
  };
  const r = await kubectl(['patch', 'secret', name, '-n', ns, '--type=merge', '-p', JSON.stringify(patch)]);
  expect(r.code, r.stderr).toBe(0);
}

async function readyWithNewKey(ns: string, name: string, not: string[]) {
  return eventually(
    `${ns}/${name} Ready again on a key of its own`,
    async () => {
      const k = await getApiKey(world.custom, ns, name);
      const ok =
        condition(k, 'Ready')?.status === 'True' &&
        k?.status?.id !== undefined &&
        !not.includes(k.status.id) &&
        k.status.observedGeneration === k.metadata.generation;
      return ok ? k : undefined;
    },
    45_000,
  );
}

describe('a tenant cannot take over another namespace’s Rancher key', () => {
  it('a Secret annotated with team a’s access key: team a’s key is never renamed, deactivated or purged', async () => {
    const before = await victim();
    const victimPv = before.key?.publicValue ?? '';
    await apply(
      apiKeyManifest(teamB(), 'thief', { environment: env(), name: 'stolen', description: 'mine now' }),
    );
    const mine = await waitForCondition(world.custom, teamB(), 'thief', 'Ready', 'True');
    await forgeSecret(teamB(), 'thief', victimPv);
    const replaced = await readyWithNewKey(teamB(), 'thief', [before.key?.id ?? '', mine.status?.id ?? '']);
    expect(await events(teamB(), 'thief')).toMatch(/SecretTampered/);
    // The forged Secret was answered by a new key, whose pair the Secret now holds.
    const v = (await readSecretValues(world.core, teamB(), 'thief')) ?? {};
    expect(v.publicValue).toBe(replaced.status?.publicValue);
    expect(v.publicValue).not.toBe(victimPv);
    await expectVictimUntouched(before);

    // Inactive, then deletion: only team b's own keys change.
    await forgeSecret(teamB(), 'thief', victimPv);
    await apply(apiKeyManifest(teamB(), 'thief', { environment: env(), name: 'stolen', state: 'Inactive' }));
    await eventually(
      'team b’s ApiKey Ready and Inactive on its own key',
      async () => {
        const k = await getApiKey(world.custom, teamB(), 'thief');
        const c = condition(k, 'Ready');
        return c?.status === 'True' && c.reason === 'KeyInactive' && k?.status?.id !== before.key?.id
          ? k
          : undefined;
      },
      45_000,
    );
    await expectVictimUntouched(before);
    await forgeSecret(teamB(), 'thief', victimPv);
    await world.custom.deleteNamespacedCustomObject({
      group: 'rancher.keyops.dev',
      version: 'v1alpha1',
      plural: 'apikeys',
      namespace: teamB(),
      name: 'thief',
    });
    await eventually('team b’s ApiKey gone', async () =>
      (await getApiKey(world.custom, teamB(), 'thief')) === undefined ? true : undefined,
    );
    await expectVictimUntouched(before);
  });

  it('a Secret aimed at the shared admin credential never deactivates the operator’s own key', async () => {
    const before = await victim();
    const admin = world.emulator.admin;
    await apply(apiKeyManifest(teamB(), 'admin-thief', {}));
    const mine = await waitForCondition(world.custom, teamB(), 'admin-thief', 'Ready', 'True');
    await forgeSecret(teamB(), 'admin-thief', admin.accessKey);
    await apply(apiKeyManifest(teamB(), 'admin-thief', { state: 'Inactive' }));
    await eventually(
      'team b’s account key Ready and Inactive on its own key',
      async () => {
        const k = await getApiKey(world.custom, teamB(), 'admin-thief');
        const c = condition(k, 'Ready');
        const own = k?.status?.publicValue !== admin.accessKey;
        return c?.status === 'True' && c.reason === 'KeyInactive' && own ? k : undefined;
      },
      45_000,
    );
    expect(mine.status?.publicValue).not.toBe(admin.accessKey);
    expect(await authenticates(world.emulator.url, admin.accessKey, admin.secretKey)).toBe(true);
    const adminKey = world.emulator.keys().find((k) => k.publicValue === admin.accessKey);
    expect(adminKey?.state).toBe('active');
    // Every connection on those credentials stays Ready, and team a keeps working.
    const conn = await kubectl(['get', 'rancherconnection', 'rancher', '-n', teamA(), '-o', 'json']);
    const ready = JSON.parse(conn.stdout).status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready.status).toBe('True');
    await expectVictimUntouched(before);
  });

  it('a forged rotation staging Secret naming team a’s key is never promoted', async () => {
    const before = await victim();
    const victimPv = before.key?.publicValue ?? '';
    await apply(apiKeyManifest(teamB(), 'stager', { environment: env() }));
    const mine = await waitForCondition(world.custom, teamB(), 'stager', 'Ready', 'True');
    const uid = mine.metadata.uid ?? '';
    const fake = 'made-up-staging-secret';
    await world.core.createNamespacedSecret({
      namespace: teamB(),
      body: {
        metadata: {
          name: `apikey-rotation-${uid}`,
          labels: { 'app.kubernetes.io/managed-by': 'rancher-apikey-operator' },
          annotations: { [ANNOTATIONS.publicValue]: victimPv, [ANNOTATIONS.secretDigest]: digest(fake) },
          ownerReferences: [
            {
              apiVersion: 'rancher.keyops.dev/v1alpha1',
              kind: 'ApiKey',
              name: 'stager',
              uid,
              controller: true,
            },
          ],
        },
        stringData: { publicValue: victimPv, secretValue: fake },
      },
    });
    const rotated = await readyWithNewKey(teamB(), 'stager', [before.key?.id ?? '', mine.status?.id ?? '']);
    expect(rotated.status?.publicValue).not.toBe(victimPv);
    expect(await events(teamB(), 'stager')).toMatch(/SecretTampered/);
    const v = (await readSecretValues(world.core, teamB(), 'stager')) ?? {};
    expect(await authenticates(world.emulator.url, v.publicValue ?? '', v.secretValue ?? '')).toBe(true);
    await expectVictimUntouched(before);
  });
});
