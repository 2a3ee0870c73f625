// Paths, casing, links, ids, headers, schemas and error shapes (reference §1, §2, §6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, list, textAt } from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 5 });
});
afterAll(() => emu.close());

describe('paths', () => {
  it.each([
    '/v1/apikeys',
    '/v1/apiKeys',
    '/v1/apikey',
    '/v1/apiKey',
    '/v1/APIKEYS',
    '/v2-beta/apikeys',
    '/v2-beta/Projects/1a5/ApiKeys',
  ])('GET %s resolves to the apiKey collection', async (path) => {
    const answer = await call(emu, 'GET', path, { auth: emu.user });
    expect(answer.status).toBe(200);
    expect(answer.body.resourceType).toBe('apiKey');
  });

  it('unknown versions and types are 404 Not Found', async () => {
    expect((await call(emu, 'GET', '/v3/apikeys', { auth: emu.user })).status).toBe(404);
    const unknown = await call(emu, 'GET', '/v1/containers', { auth: emu.user });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ type: 'error', baseType: 'error', status: 404, code: 'Not Found' });
  });

  it.each(['1c999', 'abc', '123', '1c', '1C3'])('GET /v1/apikeys/%s is 404', async (id) => {
    expect((await call(emu, 'GET', `/v1/apikeys/${id}`, { auth: emu.user })).status).toBe(404);
  });

  it('ids parse like Cattle: the type letters are not checked, so 1x<n> reads key n', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: {} });
    const n = textAt(created.body, 'id').slice(2);
    const read = await call(emu, 'GET', `/v1/apikeys/1x${n}`, { auth: emu.user });
    expect(read.body.id).toBe(`1c${n}`);
  });

  it('methods a type does not allow are 405', async () => {
    expect((await call(emu, 'PUT', '/v1/apikeys', { auth: emu.user, body: {} })).status).toBe(405);
    expect((await call(emu, 'DELETE', '/v1/apikeys', { auth: emu.user })).status).toBe(405);
    expect((await call(emu, 'POST', '/v1/accounts', { auth: emu.admin, body: {} })).status).toBe(405);
  });

  it('a body that is not JSON is 422 InvalidBodyContent', async () => {
    const answer = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: '{not json' });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('InvalidBodyContent');
  });
});

describe('resource shape', () => {
  it('a created key has Rancher ids, formats, lowercased links, name/state first and every documented field', async () => {
    const created = await call(emu, 'POST', '/v2-beta/projects/1a5/APIKEYS', {
      auth: emu.user,
      body: { name: 'x' },
    });
    const id = textAt(created.body, 'id');
    expect(id).toMatch(/^1c\d+$/);
    const self = `${emu.url}/v2-beta/projects/1a5/apikeys/${id}`;
    expect(created.body.links).toEqual({
      self,
      account: `${self}/account`,
      certificate: `${self}/certificate`,
    });
    expect(Object.keys(created.body).slice(0, 7)).toEqual([
      'id',
      'type',
      'links',
      'actions',
      'baseType',
      'name',
      'state',
    ]);
    expect(created.body).toMatchObject({
      type: 'apiKey',
      baseType: 'credential',
      kind: 'apiKey',
      removed: null,
    });
    expect(textAt(created.body, 'created')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.body.createdTS).toBe(Date.parse(textAt(created.body, 'created')));
    expect(textAt(created.body, 'uuid')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(created.body).not.toHaveProperty('removeTime');
    expect(created.body).not.toHaveProperty('data');
  });

  it('JSON output escapes forward slashes and is served as application/json; charset=utf-8', async () => {
    const answer = await call(emu, 'GET', '/v1/apikeys', { auth: emu.user });
    expect(answer.text).toContain('http:\\/\\/');
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('admins see removeTime and data on keys', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.admin, body: {} });
    expect(created.body).toMatchObject({ removeTime: null, data: {} });
  });

  it('every response, errors included, carries X-API-Schemas for its version', async () => {
    const ok = await call(emu, 'GET', '/v2-beta/apikeys', { auth: emu.user });
    expect(ok.headers.get('x-api-schemas')).toBe(`${emu.url}/v2-beta/schemas`);
    const denied = await call(emu, 'GET', '/v1/apikeys');
    expect(denied.headers.get('x-api-schemas')).toBe(`${emu.url}/v1/schemas`);
  });

  it('the account link returns the owner and the version root links the collections', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: {} });
    const owner = await call(emu, 'GET', `/v1/apikeys/${textAt(created.body, 'id')}/account`, {
      auth: emu.user,
    });
    expect(owner.body).toMatchObject({ id: emu.user.accountId, type: 'account', kind: 'user' });
    const root = await call(emu, 'GET', '/v2-beta', { auth: emu.user });
    expect(textAt(root.body, 'links', 'apikeys')).toBe(`${emu.url}/v2-beta/apikeys`);
    const versions = await call(emu, 'GET', '/', { auth: emu.user });
    expect(list(versions.body).map((v) => v.id)).toEqual(['v1', 'v2-beta']);
  });
});

describe('schemas', () => {
  it('the apiKey schema lets admins create publicValue and secretValue, read-on-create-only for the secret', async () => {
    const schema = await call(emu, 'GET', '/v1/schemas/apikey', { auth: emu.admin });
    expect(schema.body).toMatchObject({
      id: 'apiKey',
      type: 'schema',
      pluralName: 'apiKeys',
      parent: 'credential',
    });
    expect(schema.body.resourceFields).toMatchObject({
      publicValue: { create: true, update: false },
      secretValue: { type: 'password', create: true, readOnCreateOnly: true },
      accountId: { create: true },
      name: { create: true, update: true },
      removeTime: { create: false },
    });
    expect(textAt(schema.body, 'links', 'collection')).toBe(`${emu.url}/v1/apikeys`);
    expect(Object.keys(Object(schema.body.resourceActions))).toEqual([
      'activate',
      'create',
      'deactivate',
      'purge',
      'remove',
      'update',
    ]);
  });

  it('the user schema makes publicValue and secretValue read-only and hides removeTime and data', async () => {
    const schema = await call(emu, 'GET', '/v1/schemas/APIKEYS', { auth: emu.user });
    const fields = Object(schema.body.resourceFields);
    expect(fields.publicValue).toMatchObject({ create: false });
    expect(fields.secretValue).toMatchObject({ create: false, readOnCreateOnly: true });
    expect(fields).not.toHaveProperty('removeTime');
    expect(Object(schema.body.collectionFilters).name.modifiers).toEqual(
      expect.arrayContaining(['eq', 'ne', 'prefix', 'like', 'notlike', 'null', 'notnull']),
    );
  });

  it('the schema collection includes apiKey and unknown schemas are 404', async () => {
    const all = await call(emu, 'GET', '/v2-beta/schemas', { auth: emu.user });
    expect(list(all.body).map((s) => s.id)).toContain('apiKey');
    expect((await call(emu, 'GET', '/v2-beta/schemas/nope', { auth: emu.user })).status).toBe(404);
  });
});
