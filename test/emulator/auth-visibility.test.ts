// Authentication and scoping (reference §5): Basic auth with active keys only, environment vs account keys, ownership.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createActiveKey, credentialsOf, list, textAt, waitForState } from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 30 });
});
afterAll(() => emu.close());

const REALM = 'Basic realm="Enter API access key and secret key as username and password"';

describe('authentication', () => {
  it('no credentials is 401 Unauthorized with the Basic challenge and the exact Rancher error body', async () => {
    const answer = await call(emu, 'GET', '/v2-beta/apikeys');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe(REALM);
    const { id, ...rest } = answer.body;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rest).toEqual({
      type: 'error',
      links: {},
      actions: {},
      baseType: 'error',
      status: 401,
      code: 'Unauthorized',
      message: 'Unauthorized',
      detail: null,
    });
  });

  it('a wrong secret is 401, and X-API-No-Challenge: true suppresses the challenge header', async () => {
    const auth = { accessKey: emu.user.accessKey, secretKey: 'wrong' };
    const answer = await call(emu, 'GET', '/v1/apikeys', { auth, headers: { 'x-api-no-challenge': 'true' } });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBeNull();
  });

  it('only active keys authenticate: registering, inactive and removed keys get 401, reactivation restores access', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: {} });
    const key = credentialsOf(created.body);
    const path = `/v1/apikeys/${textAt(created.body, 'id')}`;
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: key })).status).toBe(401);
    await waitForState(emu, emu.user, path, 'active');
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: key })).status).toBe(200);
    await call(emu, 'POST', `${path}?action=deactivate`, { auth: emu.user });
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: key })).status).toBe(401);
    await waitForState(emu, emu.user, path, 'inactive');
    await call(emu, 'POST', `${path}?action=activate`, { auth: emu.user });
    await waitForState(emu, emu.user, path, 'active');
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: key })).status).toBe(200);
  });

  it('the access key matches exactly: a lowercased access key does not authenticate', async () => {
    const auth = { accessKey: emu.user.accessKey.toLowerCase(), secretKey: emu.user.secretKey };
    expect((await call(emu, 'GET', '/v1/apikeys', { auth })).status).toBe(401);
  });

  it('authenticated responses name the policy account, its kind and the user in X-API-* headers', async () => {
    const answer = await call(emu, 'GET', '/v1/projects/1a5/apikeys', { auth: emu.user });
    expect(answer.headers.get('x-api-account-id')).toBe('1a5');
    expect(answer.headers.get('x-api-account-kind')).toBe('project');
    expect(answer.headers.get('x-api-user-id')).toBe(emu.user.accountId);
  });
});

describe('environment scoping', () => {
  it('a user reaches its member environment by path or header and gets 403 on another or unknown one', async () => {
    expect((await call(emu, 'GET', '/v1/projects/1a5/apikeys', { auth: emu.user })).status).toBe(200);
    const viaHeader = await call(emu, 'GET', '/v1/apikeys', {
      auth: emu.user,
      headers: { 'x-api-project-id': '1a5' },
    });
    expect(viaHeader.headers.get('x-api-account-id')).toBe('1a5');
    const other = await call(emu, 'GET', '/v1/projects/1a6/apikeys', { auth: emu.user });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ status: 403, code: 'Forbidden' });
    expect((await call(emu, 'GET', '/v1/projects/1a99/apikeys', { auth: emu.user })).status).toBe(403);
  });

  it('an admin reaches every environment', async () => {
    expect((await call(emu, 'GET', '/v1/projects/1a6/apikeys', { auth: emu.admin })).status).toBe(200);
  });

  it('an environment key creating at /apikeys makes another key for its own environment', async () => {
    const envKey = credentialsOf(await createActiveKey(emu, emu.user, '/v1/projects/1a5/apikeys'));
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: envKey, body: {} });
    expect(created.body.accountId).toBe('1a5');
    const foreign = await call(emu, 'GET', '/v1/apikeys', {
      auth: envKey,
      headers: { 'x-api-project-id': '1a6' },
    });
    expect(foreign.status).toBe(403);
  });
});

describe('ownership and visibility', () => {
  it('a user lists only its own account keys at /apikeys and only environment keys under /projects/1a5', async () => {
    const accountKey = await createActiveKey(emu, emu.user, '/v1/apikeys', { name: 'mine-account' });
    const envKey = await createActiveKey(emu, emu.user, '/v1/projects/1a5/apikeys', { name: 'mine-env' });
    const accountIds = list((await call(emu, 'GET', '/v1/apikeys?limit=0', { auth: emu.user })).body).map(
      (k) => k.id,
    );
    expect(accountIds).toContain(accountKey.id);
    expect(accountIds).not.toContain(envKey.id);
    const envIds = list(
      (await call(emu, 'GET', '/v1/projects/1a5/apikeys?limit=0', { auth: emu.user })).body,
    );
    expect(envIds.map((k) => k.id)).toEqual(expect.arrayContaining([envKey.id]));
    expect(envIds.every((k) => k.accountId === '1a5')).toBe(true);
  });

  it("another account's key is 404 by id for a user, but readable by id for an admin", async () => {
    const adminKey = await createActiveKey(emu, emu.admin);
    const path = `/v1/apikeys/${textAt(adminKey, 'id')}`;
    const hidden = await call(emu, 'GET', path, { auth: emu.user });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toMatchObject({ code: 'Not Found', message: 'Not Found' });
    expect((await call(emu, 'DELETE', path, { auth: emu.user })).status).toBe(404);
    const userKey = await createActiveKey(emu, emu.user);
    expect((await call(emu, 'GET', `/v1/apikeys/${textAt(userKey, 'id')}`, { auth: emu.admin })).status).toBe(
      200,
    );
  });

  it('an admin list is scoped to its policy account unless _role=superadmin', async () => {
    const userKey = await createActiveKey(emu, emu.user, '/v1/apikeys', { name: 'scoped' });
    const query = `publicValue=${textAt(userKey, 'publicValue')}`;
    expect(list((await call(emu, 'GET', `/v1/apikeys?${query}`, { auth: emu.admin })).body)).toHaveLength(0);
    const all = await call(emu, 'GET', `/v1/apikeys?${query}&_role=superadmin`, { auth: emu.admin });
    expect(list(all.body).map((k) => k.id)).toEqual([userKey.id]);
  });
});

describe('supplied values', () => {
  it('a non-admin supplying publicValue, secretValue and accountId has them silently dropped', async () => {
    const body = { publicValue: 'USERCHOSEN', secretValue: 'usersecret', accountId: emu.admin.accountId };
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body });
    expect(created.status).toBe(201);
    expect(created.body.publicValue).not.toBe('USERCHOSEN');
    expect(created.body.secretValue).not.toBe('usersecret');
    expect(created.body.accountId).toBe(emu.user.accountId);
  });

  it('an admin-supplied pair is honored and authenticates once active', async () => {
    const pair = { publicValue: 'ADMINCHOSEN0001', secretValue: 'admin-chosen-secret' };
    const created = await createActiveKey(emu, emu.admin, '/v1/apikeys', { ...pair, accountId: '1a5' });
    expect(created).toMatchObject({ ...pair, accountId: '1a5' });
    const auth = { accessKey: pair.publicValue, secretKey: pair.secretValue };
    expect((await call(emu, 'GET', '/v1/apikeys', { auth })).headers.get('x-api-account-id')).toBe('1a5');
  });

  it('an admin passing an unknown accountId gets 422 InvalidReference on accountId', async () => {
    const answer = await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: { accountId: '1a404' } });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'InvalidReference', fieldName: 'accountId' });
  });
});

describe('accounts and projects', () => {
  it('an admin lists every account and both environments; a user sees itself and its member environment', async () => {
    const accounts = list((await call(emu, 'GET', '/v1/accounts', { auth: emu.admin })).body);
    expect(accounts.map((a) => a.id)).toEqual(['1a1', '1a2', '1a5', '1a6']);
    const admin = await call(emu, 'GET', '/v1/accounts?kind=admin&uuid=admin', { auth: emu.admin });
    expect(list(admin.body).map((a) => a.id)).toEqual([emu.admin.accountId]);
    expect(list((await call(emu, 'GET', '/v1/projects', { auth: emu.admin })).body)).toHaveLength(2);
    expect(list((await call(emu, 'GET', '/v1/accounts', { auth: emu.user })).body).map((a) => a.id)).toEqual([
      '1a2',
    ]);
    const projects = list((await call(emu, 'GET', '/v1/projects', { auth: emu.user })).body);
    expect(projects.map((p) => [p.id, p.name, p.type])).toEqual([['1a5', 'Default', 'project']]);
  });
});
