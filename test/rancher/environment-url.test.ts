// A connection URL that is an environment's URL (…/{v}/projects/{pid}[/schemas]) keeps every call in that
// environment against the emulator: identity, create, list, lifecycle links (issue 14).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { clientFor, startTestEmulator, VERSIONS } from './support.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(() => emu.close());

describe.each(VERSIONS)('%s environment URL', (version) => {
  it.each([`/${version}/projects/1a5`, `/${version}/projects/1a5/schemas`])(
    '%s: identity, keys and their lifecycle stay in environment 1a5',
    async (path) => {
      // The version in the URL wins over the option: the operator refuses a mismatch before this point.
      const client = clientFor(emu, 'user', version === 'v1' ? 'v2-beta' : 'v1', {
        url: `${emu.url}${path}`,
      });
      try {
        expect(await client.identity()).toMatchObject({ accountId: '1a5', accountKind: 'project' });
        const name = `env-url-${path.replaceAll('/', '-')}`;
        const created = await client.createKey({ name });
        expect(created.accountId).toBe('1a5');
        expect(created.links.self).toContain(`/${version}/projects/1a5/apikeys/`);
        const listed = await client.listKeys(undefined, { name });
        expect(listed.map((k) => k.id)).toEqual([created.id]);
        const active = await client.waitForTransition(created, { timeoutMs: 5_000, intervalMs: 20 });
        const inactive = await client.deactivateKey(active ?? created);
        expect(inactive.links.self).toContain(`/${version}/projects/1a5/apikeys/`);
        expect(emu.keys().find((k) => k.id === created.id)?.accountId).toBe('1a5');
      } finally {
        await client.close();
      }
    },
  );

  it('the account URL of the same server still makes account keys', async () => {
    const client = clientFor(emu, 'user', version);
    try {
      const created = await client.createKey({ name: `account-${version}` });
      expect(created.accountId).toBe(emu.user.accountId);
    } finally {
      await client.close();
    }
  });
});
