import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RancherApiKey, RancherError } from '../../src/rancher/index.ts';
import type { Emulator } from '../emulator/index.ts';
import { clientFor, SCOPES, startTestEmulator, VERSIONS } from './support.ts';

let emu: Emulator;
// Slow enough that a call made right after an action still sees the transitioning state, even on a loaded CI machine.
beforeAll(async () => {
  emu = await startTestEmulator({ transitionDelayMs: 1_000 });
});
afterAll(async () => {
  await emu.close();
});

const combos = VERSIONS.flatMap((version) => SCOPES.map(([label, scope]) => ({ version, label, scope })));

describe.each(combos)('$version, $label', ({ version, scope }) => {
  it('drives a key through create, update, deactivate, activate, remove and purge', async () => {
    const client = clientFor(emu, 'admin', version);
    try {
      const created = await client.createKey({ name: `life-${version}`, description: 'first' }, scope);
      expect(created).toMatchObject({ state: 'registering', transitioning: 'yes' });
      expect(created.accountId).toBe(scope?.environment ?? emu.admin.accountId);
      expect(created.publicValue).toMatch(/^[0-9A-F]{20}$/);
      expect(created.secretValue).toMatch(/^[A-HJ-NP-Za-km-z1-9]{40}$/);
      const pair = { accessKey: created.publicValue, secretKey: created.secretValue ?? '' };
      expect(await client.verifyKey(pair, scope)).toBe(false);
      // The key reading itself: refused while registering (Rancher authenticates only active keys).
      expect(await client.readKeyAs(created, pair)).toBe('unauthenticated');

      const active = await settle(client, created, 'active');
      expect(await client.verifyKey(pair, scope)).toBe(true);
      expect(await client.verifyKey({ ...pair, secretKey: `${pair.secretKey}x` }, scope)).toBe(false);
      expect(await client.readKeyAs(created, pair)).toMatchObject({ id: created.id, state: 'active' });
      expect(await client.readKeyAs(created, { ...pair, secretKey: `${pair.secretKey}x` })).toBe(
        'unauthenticated',
      );
      // Another account's pair: the seeded user cannot see the admin account's key (404), but as a member of
      // environment 1a5 it sees that environment's keys.
      const user = { accessKey: emu.user.accessKey, secretKey: emu.user.secretKey };
      const userSees = scope ? expect.objectContaining({ id: created.id }) : 'hidden';
      expect(await client.readKeyAs(created, user)).toEqual(userSees);
      expect(await client.getKey(created.id, scope)).toMatchObject({ id: created.id, state: 'active' });
      expect((await client.findKeyByPublicValue(created.publicValue, scope))?.id).toBe(created.id);
      expect((await client.listKeys(scope, { name: `life-${version}` })).map((k) => k.id)).toEqual([
        created.id,
      ]);

      const updated = await client.updateKey(active, { description: 'second' });
      expect(updated).toMatchObject({ description: 'second', state: 'active' });
      expect((await client.getKey(created.id, scope))?.description).toBe('second');

      const deactivating = await client.deactivateKey(updated);
      expect(deactivating).toMatchObject({ state: 'deactivating', transitioning: 'yes' });
      expect(await client.verifyKey(pair, scope)).toBe(false);
      expect(await client.readKeyAs(created, pair)).toBe('unauthenticated');
      const inactive = await settle(client, deactivating, 'inactive');
      expect(await client.verifyKey(pair, scope)).toBe(false);

      await settle(client, await client.activateKey(inactive), 'active');
      expect(await client.verifyKey(pair, scope)).toBe(true);
      const inactiveAgain = await settle(
        client,
        await client.deactivateKey(await mustGet(client, created)),
        'inactive',
      );

      const removed = await settle(client, await client.removeKey(inactiveAgain), 'removed');
      expect(removed.removed).not.toBeNull();
      expect(await client.getKey(created.id, scope)).toMatchObject({ state: 'removed' });
      expect(await client.findKeyByPublicValue(created.publicValue, scope)).toBeUndefined();
      expect((await client.listKeys(scope)).map((k) => k.id)).not.toContain(created.id);

      await settle(client, await client.purgeKey(removed), 'purged');
      expect(await client.verifyKey(pair, scope)).toBe(false);
      expect(emu.keys().find((k) => k.id === created.id)?.state).toBe('purged');
    } finally {
      await client.close();
    }
  });

  it('maps the server refusing an action in the wrong state to NotAllowedInState', async () => {
    const client = clientFor(emu, 'admin', version);
    try {
      const active = await settle(client, await client.createKey({ name: 'wrong-state' }, scope), 'active');
      await expect(client.removeKey(active)).rejects.toMatchObject({ code: 'NotAllowedInState' });
      // A stale key object still offering `remove` reaches the server, which answers 422 ActionNotAvailable.
      const stale: RancherApiKey = { ...active, actions: { remove: `${active.links.self}/?action=remove` } };
      const err = await client.removeKey(stale).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RancherError);
      expect(err).toMatchObject({
        code: 'NotAllowedInState',
        status: 422,
        rancherCode: 'ActionNotAvailable',
      });
    } finally {
      await client.close();
    }
  });
});

async function settle(
  client: ReturnType<typeof clientFor>,
  key: RancherApiKey,
  state: RancherApiKey['state'],
): Promise<RancherApiKey> {
  const done = await client.waitForTransition(key, { intervalMs: 20, timeoutMs: 5_000 });
  expect(done).toMatchObject({ state, transitioning: 'no' });
  if (done === undefined) throw new Error(`key ${key.id} vanished`);
  return done;
}

async function mustGet(client: ReturnType<typeof clientFor>, key: RancherApiKey): Promise<RancherApiKey> {
  const got = await client.waitForTransition(key, { intervalMs: 20 });
  if (got === undefined) throw new Error(`key ${key.id} vanished`);
  return got;
}
