import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RancherApiKey, RancherClient } from '../../src/rancher/index.ts';
import type { Emulator } from '../emulator/index.ts';
import {
  clientFor,
  randomPublicValue,
  randomSecretValue,
  SCOPES,
  startTestEmulator,
  VERSIONS,
} from './support.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu.close();
});

async function settled(client: RancherClient, key: RancherApiKey): Promise<RancherApiKey> {
  const done = await client.waitForTransition(key, { intervalMs: 10 });
  if (done === undefined) throw new Error(`key ${key.id} vanished`);
  return done;
}

describe('identity', () => {
  it.each(VERSIONS)('the admin may supply key values (%s)', async (version) => {
    const client = clientFor(emu, 'admin', version);
    expect(await client.identity()).toEqual({
      accountId: emu.admin.accountId,
      accountKind: 'admin',
      canSupplyValues: true,
    });
    await client.close();
  });

  it.each(VERSIONS)('a user may not supply key values (%s)', async (version) => {
    const client = clientFor(emu, 'user', version);
    expect(await client.identity()).toEqual({
      accountId: emu.user.accountId,
      accountKind: 'user',
      canSupplyValues: false,
    });
    await client.close();
  });

  it('bad credentials make identity fail with Unauthorized', async () => {
    const client = clientFor(emu, 'admin', 'v1', {
      credentials: { accessKey: emu.admin.accessKey, secretKey: 'wrong' },
    });
    await expect(client.identity()).rejects.toMatchObject({ code: 'Unauthorized', status: 401 });
    await client.close();
  });
});

describe.each(VERSIONS.flatMap((version) => SCOPES.map(([label, scope]) => ({ version, label, scope }))))(
  'admin-supplied values ($version, $label)',
  ({ version, scope }) => {
    it('are kept, authenticate once active, and a duplicate live publicValue is NotUnique until removed', async () => {
      const client = clientFor(emu, 'admin', version);
      const publicValue = randomPublicValue();
      const secretValue = randomSecretValue();
      const created = await client.createKey({ name: 'supplied', publicValue, secretValue }, scope);
      expect(created).toMatchObject({ publicValue, secretValue });
      const active = await settled(client, created);
      expect(await client.verifyKey({ accessKey: publicValue, secretKey: secretValue }, scope)).toBe(true);
      expect((await client.findKeyByPublicValue(publicValue, scope))?.id).toBe(created.id);

      const dup = client.createKey({ name: 'dup', publicValue, secretValue: randomSecretValue() }, scope);
      await expect(dup).rejects.toMatchObject({ code: 'NotUnique', status: 422, rancherCode: 'NotUnique' });
      const inactive = await settled(client, await client.deactivateKey(active));
      const dupWhileInactive = client.createKey({ publicValue, secretValue }, scope);
      await expect(dupWhileInactive).rejects.toMatchObject({ code: 'NotUnique' });

      await settled(client, await client.removeKey(inactive));
      const reused = await client.createKey({ name: 'reuse', publicValue, secretValue }, scope);
      expect(reused.publicValue).toBe(publicValue);
      expect(reused.id).not.toBe(created.id);
      await client.close();
    });
  },
);

describe.each(VERSIONS)('user-supplied values (%s)', (version) => {
  it.each(SCOPES)(
    'are silently replaced in %s, detectable by a different publicValue',
    async (_label, scope) => {
      const client = clientFor(emu, 'user', version);
      const publicValue = randomPublicValue();
      const secretValue = randomSecretValue();
      const created = await client.createKey({ name: 'user-key', publicValue, secretValue }, scope);
      expect(created.publicValue).not.toBe(publicValue);
      expect(created.secretValue).not.toBe(secretValue);
      expect(created.accountId).toBe(scope?.environment ?? emu.user.accountId);
      await settled(client, created);
      const generated = { accessKey: created.publicValue, secretKey: created.secretValue ?? '' };
      expect(await client.verifyKey(generated, scope)).toBe(true);
      expect(await client.verifyKey({ accessKey: publicValue, secretKey: secretValue }, scope)).toBe(false);
      expect(await client.findKeyByPublicValue(publicValue, scope)).toBeUndefined();
      await client.close();
    },
  );

  it('an environment the user is not a member of is Forbidden', async () => {
    const client = clientFor(emu, 'user', version);
    await expect(client.listKeys({ environment: '1a6' })).rejects.toMatchObject({
      code: 'Forbidden',
      status: 403,
    });
    await expect(client.createKey({ name: 'x' }, { environment: '1a6' })).rejects.toMatchObject({
      code: 'Forbidden',
    });
    await client.close();
  });

  it('keys of another account are invisible: getKey yields undefined', async () => {
    const admin = clientFor(emu, 'admin', version);
    const user = clientFor(emu, 'user', version);
    const adminKey = await admin.createKey({ name: 'admin-only' });
    expect(await user.getKey(adminKey.id)).toBeUndefined();
    expect(await admin.getKey(adminKey.id)).toMatchObject({ id: adminKey.id });
    await admin.close();
    await user.close();
  });
});

describe('pagination', () => {
  it('listKeys follows pagination.next across pages', async () => {
    const client = clientFor(emu, 'admin', 'v2-beta');
    const scope = { environment: '1a6' };
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add((await client.createKey({ name: `page-${i}` }, scope)).id);
    emu.resetRequests();
    const listed = await client.listKeys(scope, { name_prefix: 'page-', limit: '3' });
    expect(new Set(listed.map((k) => k.id))).toEqual(ids);
    expect(emu.requests().byRoute['GET /apikeys']).toBe(3);
    await client.close();
  });
});
