// Cattle's tests/integration/cattletest/core/test_apikey.py (reference §8) replayed against the emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  at,
  basicHeader,
  call,
  createActiveKey,
  credentialsOf,
  textAt,
  waitForState,
} from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 15 });
});
afterAll(() => emu.close());

const SECRET_PATTERN = /^[A-HJ-NP-Za-km-z1-9]{40}$/;
const randomPublicValue = () => `PV${Math.random().toString(16).slice(2, 14).toUpperCase()}`;

describe('cattle test_apikey.py', () => {
  it('test_api_key_create: a user create with no fields is registering with both values, then active with a null secret', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: {} });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'registering',
      transitioning: 'yes',
      accountId: emu.user.accountId,
    });
    expect(textAt(created.body, 'publicValue')).toMatch(/^[0-9A-F]{20}$/);
    expect(textAt(created.body, 'secretValue')).toMatch(SECRET_PATTERN);
    const done = await waitForState(emu, emu.user, `/v1/apikeys/${textAt(created.body, 'id')}`, 'active');
    expect(done.body).toMatchObject({
      transitioning: 'no',
      publicValue: created.body.publicValue,
      secretValue: null,
    });
  });

  it('test_api_key_create_admin: a superadmin read after activation shows a non-null secretValue (the stored hash)', async () => {
    const created = await createActiveKey(emu, emu.admin);
    const read = await call(emu, 'GET', `/v1/apikeys/${textAt(created, 'id')}?_role=superadmin`, {
      auth: emu.admin,
    });
    expect(read.body.state).toBe('active');
    expect(textAt(read.body, 'secretValue')).toMatch(/^SHA256:[0-9a-f]{20}:[0-9a-f]{64}$/);
    const plainAdmin = await call(emu, 'GET', `/v1/apikeys/${textAt(created, 'id')}`, { auth: emu.admin });
    expect(plainAdmin.body.secretValue).toBeNull();
  });

  it('test_api_key_null_secret: an admin-supplied publicValue with a null secret stays null through activation', async () => {
    const publicValue = randomPublicValue();
    const body = { accountId: '1a5', publicValue, secretValue: null };
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'registering',
      publicValue,
      secretValue: null,
      accountId: '1a5',
    });
    const done = await waitForState(emu, emu.admin, `/v1/apikeys/${textAt(created.body, 'id')}`, 'active');
    expect(done.body).toMatchObject({ publicValue, secretValue: null });
  });

  it('test_api_key_422_on_identical_keys: a second create with the same values is 422 NotUnique on publicValue', async () => {
    for (let round = 0; round < 2; round++) {
      const values = { publicValue: randomPublicValue(), secretValue: `secret-${round}` };
      await createActiveKey(emu, emu.admin, '/v1/apikeys', values);
      const again = await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: values });
      expect(again.status).toBe(422);
      expect(again.body).toMatchObject({
        type: 'error',
        status: 422,
        code: 'NotUnique',
        fieldName: 'publicValue',
      });
      expect(again.body).toMatchObject({ message: null, detail: null });
    }
  });

  it('test_identical_public_value_password (apiKey analog): a duplicate is refused immediately, before any wait', async () => {
    const values = { publicValue: randomPublicValue(), secretValue: 'x' };
    expect((await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: values })).status).toBe(201);
    const lowerCase = { ...values, publicValue: values.publicValue.toLowerCase() };
    const again = await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: lowerCase });
    expect(again.status).toBe(422);
    expect(again.body.code).toBe('NotUnique');
  });

  it('test_identical_public_value_api_key_inactive_removed: an inactive key still blocks its publicValue, a removed one does not', async () => {
    const values = { publicValue: randomPublicValue(), secretValue: 'y' };
    const created = await createActiveKey(emu, emu.admin, '/v1/apikeys', values);
    const path = `/v1/apikeys/${textAt(created, 'id')}`;
    expect((await call(emu, 'POST', `${path}?action=deactivate`, { auth: emu.admin })).status).toBe(202);
    await waitForState(emu, emu.admin, path, 'inactive');
    expect((await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: values })).status).toBe(422);
    expect((await call(emu, 'POST', `${path}?action=remove`, { auth: emu.admin })).status).toBe(202);
    await waitForState(emu, emu.admin, path, 'removed');
    expect((await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: values })).status).toBe(201);
  });
});

describe('cattle common_fixtures.py patterns', () => {
  it('admin_user_client: a client built from the create response authenticates once the key is active', async () => {
    const created = await createActiveKey(emu, emu.admin, '/v1/apikeys', { accountId: emu.admin.accountId });
    const whoami = await call(emu, 'GET', '/v1/apikeys', { auth: credentialsOf(created) });
    expect(whoami.status).toBe(200);
    expect(whoami.headers.get('x-api-account-id')).toBe(emu.admin.accountId);
  });

  it('create_context: an admin key with accountId=project is an environment key scoped to that project', async () => {
    const created = await createActiveKey(emu, emu.admin, '/v1/apikeys', { accountId: '1a6' });
    const projectClient = credentialsOf(created);
    const own = await call(emu, 'GET', '/v1/apikeys', { auth: projectClient });
    expect(own.headers.get('x-api-account-id')).toBe('1a6');
    expect(own.headers.get('x-api-account-kind')).toBe('project');
    expect((await call(emu, 'GET', '/v1/projects/1a5/apikeys', { auth: projectClient })).status).toBe(403);
  });

  it('owner_client: an account key with project_id works under /projects/<id> and creates environment keys there', async () => {
    const created = await call(emu, 'POST', '/v2-beta/projects/1a5/apikeys', {
      auth: emu.user,
      body: { name: 'env' },
    });
    expect(created.status).toBe(201);
    expect(created.body.accountId).toBe('1a5');
    expect(textAt(created.body, 'links', 'self')).toMatch(/\/v2-beta\/projects\/1a5\/apikeys\/1c\d+$/);
  });

  it('purge_account: deactivate, remove and purge, each run only when offered, end in purged', async () => {
    const created = await createActiveKey(emu, emu.user);
    const path = `/v1/apikeys/${textAt(created, 'id')}`;
    for (const action of ['deactivate', 'remove', 'purge']) {
      const current = await call(emu, 'GET', path, { auth: emu.user });
      const link = at(current.body, 'actions', action);
      expect(link, `${action} offered`).toBeTypeOf('string');
      const done = action === 'deactivate' ? 'inactive' : action === 'remove' ? 'removed' : 'purged';
      const answer = await fetch(String(link), {
        method: 'POST',
        headers: { authorization: basicHeader(emu.user) },
      });
      expect(answer.status).toBe(202);
      await waitForState(emu, emu.user, path, done);
    }
    const purged = await call(emu, 'GET', path, { auth: emu.user });
    expect(purged.body).toMatchObject({ state: 'purged', actions: {} });
    expect(purged.body.removed).not.toBeNull();
  });
});
