import { afterEach, describe, expect, it } from 'vitest';
import {
  errorBody,
  JSON_HEADERS,
  type MockedClient,
  mockedClient,
  ORIGIN,
  wireKey,
} from './client.test-support.ts';
import { RancherError } from './errors.ts';
import { RancherApiKeySchema } from './schemas.ts';

let m: MockedClient;
afterEach(async () => {
  await m.client.close();
  await m.agent.close();
});

const startsWith = (prefix: string) => (path: string) => path.startsWith(prefix);

describe('reads', () => {
  it('getKey parses the wire object and drops unknown fields', async () => {
    m = mockedClient();
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
      .reply(200, wireKey(), { headers: JSON_HEADERS });
    const key = await m.client.getKey('1c12');
    expect(key).toMatchObject({
      id: '1c12',
      state: 'active',
      transitioning: 'no',
      publicValue: '8F3A1C0D9E7B6A5F4C21',
    });
    expect(key).not.toHaveProperty('uuid');
    expect(key).not.toHaveProperty('secretValue');
  });

  it('getKey returns undefined on 404', async () => {
    m = mockedClient();
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c99', method: 'GET' })
      .reply(404, errorBody(404, 'Not Found'));
    expect(await m.client.getKey('1c99')).toBeUndefined();
  });

  it('getKey uses the /projects/{pid} path form for environment scope on v2-beta', async () => {
    m = mockedClient({ version: 'v2-beta' });
    const key = wireKey({ id: '1c7', accountId: '1a9', state: 'removed', removed: '2017-06-01T11:00:00Z' });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v2-beta/projects/1a9/apikeys/1c7', method: 'GET' })
      .reply(200, key);
    const got = await m.client.getKey('1c7', { environment: '1a9' });
    expect(got).toMatchObject({ state: 'removed', removed: '2017-06-01T11:00:00Z' });
  });

  it('rejects ids that could escape the apikeys path', async () => {
    m = mockedClient();
    await expect(m.client.getKey('../accounts')).rejects.toMatchObject({ code: 'Validation' });
    await expect(m.client.getKey('1c1', { environment: '1a5/x' })).rejects.toMatchObject({
      code: 'Validation',
    });
  });

  it('listKeys follows pagination.next until it is null and rebases links onto the configured origin', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    const page = (ids: string[], next: string | null) => ({
      type: 'collection',
      data: ids.map((id) => wireKey({ id })),
      pagination: { next, partial: next !== null, limit: 2 },
    });
    pool
      .intercept({ path: '/v1/apikeys?limit=1000&name=op', method: 'GET' })
      .reply(200, page(['1c1', '1c2'], 'http://internal:8080/v1/apikeys?name=op&marker=m2'));
    pool.intercept({ path: '/v1/apikeys?name=op&marker=m2', method: 'GET' }).reply(200, page(['1c3'], null));
    const keys = await m.client.listKeys(undefined, { name: 'op' });
    expect(keys.map((k) => k.id)).toEqual(['1c1', '1c2', '1c3']);
    m.agent.assertNoPendingInterceptors();
  });

  it('listKeys fails with InvalidResponse when pagination loops', async () => {
    m = mockedClient();
    const loop = { data: [], pagination: { next: `${ORIGIN}/v1/apikeys?marker=m1` } };
    m.agent
      .get(ORIGIN)
      .intercept({ path: startsWith('/v1/apikeys'), method: 'GET' })
      .reply(200, loop)
      .persist();
    await expect(m.client.listKeys()).rejects.toMatchObject({ code: 'InvalidResponse' });
  });

  it('findKeyByPublicValue checks the match itself because Rancher ignores unknown filters', async () => {
    m = mockedClient();
    const other = wireKey({ id: '1c1', publicValue: 'AAAAAAAAAAAAAAAAAAAA' });
    const wanted = wireKey({ id: '1c2', publicValue: 'BBBBBBBBBBBBBBBBBBBB' });
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: startsWith('/v1/apikeys?'), method: 'GET' })
      .reply(200, { data: [other, wanted] })
      .times(2);
    expect((await m.client.findKeyByPublicValue('BBBBBBBBBBBBBBBBBBBB'))?.id).toBe('1c2');
    expect(await m.client.findKeyByPublicValue('CCCCCCCCCCCCCCCCCCCC')).toBeUndefined();
  });

  it('identity reads the account headers and the publicValue create flag of the schema', async () => {
    m = mockedClient();
    const schema = { id: 'apiKey', resourceFields: { publicValue: { type: 'string', create: true } } };
    const headers = { ...JSON_HEADERS, 'x-api-account-id': '1a1', 'x-api-account-kind': 'admin' };
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/schemas/apikey', method: 'GET' })
      .reply(200, schema, { headers });
    expect(await m.client.identity()).toEqual({
      accountId: '1a1',
      accountKind: 'admin',
      canSupplyValues: true,
    });
  });

  it('identity reports canSupplyValues false when publicValue is read-only', async () => {
    m = mockedClient();
    const schema = { id: 'apiKey', resourceFields: { publicValue: { type: 'string', create: false } } };
    const headers = { 'x-api-account-id': '1a7', 'x-api-account-kind': 'user' };
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/schemas/apikey', method: 'GET' })
      .reply(200, schema, { headers });
    expect(await m.client.identity()).toMatchObject({ accountId: '1a7', canSupplyValues: false });
  });
});

describe('writes', () => {
  let sent: unknown;
  const capture = (body: string): boolean => {
    sent = JSON.parse(body);
    return true;
  };

  it('createKey sends only the given fields and returns the one-time secretValue', async () => {
    m = mockedClient();
    const created = wireKey({
      state: 'registering',
      transitioning: 'yes',
      secretValue: 'kzP3tW9hQm2xRfA7cVnB4yJdL8gS6uEeH1rTqYwZ',
    });
    m.agent
      .get(ORIGIN)
      .intercept({
        path: '/v1/projects/1a5/apikeys',
        method: 'POST',
        body: capture,
      })
      .reply(201, created);
    const key = await m.client.createKey({ name: 'op-key', description: undefined }, { environment: '1a5' });
    expect(sent).toEqual({ name: 'op-key' });
    expect(key).toMatchObject({
      state: 'registering',
      secretValue: 'kzP3tW9hQm2xRfA7cVnB4yJdL8gS6uEeH1rTqYwZ',
    });
  });

  it('updateKey PUTs name and description to the self link', async () => {
    m = mockedClient();
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12', method: 'PUT', body: capture })
      .reply(200, wireKey({ description: 'new' }));
    const key = RancherApiKeySchema.parse(wireKey());
    expect((await m.client.updateKey(key, { description: 'new' })).description).toBe('new');
    expect(sent).toEqual({ description: 'new' });
  });

  it('updateKey with an empty patch makes no call', async () => {
    m = mockedClient();
    const key = RancherApiKeySchema.parse(wireKey());
    expect(await m.client.updateKey(key, {})).toBe(key);
    expect(m.calls).toEqual([]);
  });

  it('deactivateKey follows the action link and drops the hashed secretValue of the action response', async () => {
    m = mockedClient();
    const hashed = `SHA256:0123456789abcdef0123:${'a'.repeat(64)}`;
    const reply = wireKey({ state: 'deactivating', transitioning: 'yes', secretValue: hashed });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' })
      .reply(202, reply);
    const key = await m.client.deactivateKey(RancherApiKeySchema.parse(wireKey()));
    expect(key.state).toBe('deactivating');
    expect(JSON.stringify(key)).not.toContain('SHA256');
  });

  it('an action missing from key.actions throws NotAllowedInState without a call', async () => {
    m = mockedClient();
    const key = RancherApiKeySchema.parse(wireKey());
    const err = await m.client.removeKey(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RancherError);
    expect(err).toMatchObject({ code: 'NotAllowedInState' });
    expect(m.calls).toEqual([]);
  });

  it('waitForTransition polls the self link until transitioning is no longer yes', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
      .reply(200, wireKey({ state: 'registering', transitioning: 'yes' }));
    pool.intercept({ path: '/v1/apikeys/1c12', method: 'GET' }).reply(200, wireKey({ state: 'active' }));
    const start = RancherApiKeySchema.parse(wireKey({ state: 'registering', transitioning: 'yes' }));
    const done = await m.client.waitForTransition(start, { intervalMs: 1 });
    expect(done?.state).toBe('active');
    expect(m.calls).toHaveLength(2);
  });

  it('waitForTransition returns undefined when the key disappears and the last view on timeout', async () => {
    m = mockedClient();
    const moving = wireKey({ state: 'removing', transitioning: 'yes' });
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys/1c12', method: 'GET' }).reply(404, {});
    expect(
      await m.client.waitForTransition(RancherApiKeySchema.parse(moving), { intervalMs: 1 }),
    ).toBeUndefined();
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys/1c12', method: 'GET' }).reply(200, moving).persist();
    const last = await m.client.waitForTransition(RancherApiKeySchema.parse(moving), {
      intervalMs: 5,
      timeoutMs: 30,
    });
    expect(last).toMatchObject({ state: 'removing', transitioning: 'yes' });
  });

  it('verifyKey is true on 2xx, false on 401, and sends the given pair instead of the client credentials', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    const basic = (a: string, s: string) => `Basic ${Buffer.from(`${a}:${s}`).toString('base64')}`;
    pool
      .intercept({
        path: '/v1/apikeys?limit=1',
        method: 'GET',
        headers: { authorization: basic('GOOD', 'pair') },
      })
      .reply(200, { data: [] });
    pool.intercept({ path: '/v1/apikeys?limit=1', method: 'GET' }).reply(401, errorBody(401, 'Unauthorized'));
    expect(await m.client.verifyKey({ accessKey: 'GOOD', secretKey: 'pair' })).toBe(true);
    expect(await m.client.verifyKey({ accessKey: 'BAD', secretKey: 'pair' })).toBe(false);
  });

  it('readKeyAs reads the self link with the given pair: the key on 2xx, unauthenticated on 401, hidden on 403 and 404', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    const basic = (a: string, s: string) => `Basic ${Buffer.from(`${a}:${s}`).toString('base64')}`;
    const path = '/v1/apikeys/1c12';
    pool
      .intercept({ path, method: 'GET', headers: { authorization: basic('OWN', 'pair') } })
      .reply(200, wireKey({ state: 'active' }), { headers: JSON_HEADERS });
    pool.intercept({ path, method: 'GET' }).reply(401, errorBody(401, 'Unauthorized'));
    pool.intercept({ path, method: 'GET' }).reply(403, errorBody(403, 'Forbidden'));
    pool.intercept({ path, method: 'GET' }).reply(404, errorBody(404, 'NotFound'));
    pool.intercept({ path, method: 'GET' }).reply(422, errorBody(422, 'InvalidState'));
    const key = RancherApiKeySchema.parse(wireKey({ state: 'registering', transitioning: 'yes' }));
    expect(await m.client.readKeyAs(key, { accessKey: 'OWN', secretKey: 'pair' })).toMatchObject({
      id: '1c12',
      state: 'active',
    });
    const other = { accessKey: 'OTHER', secretKey: 'pair' };
    expect(await m.client.readKeyAs(key, other)).toBe('unauthenticated');
    expect(await m.client.readKeyAs(key, other)).toBe('hidden');
    expect(await m.client.readKeyAs(key, other)).toBe('hidden');
    // Anything else is an error for the caller (CreateKey then falls back to the connection's own read).
    await expect(m.client.readKeyAs(key, other)).rejects.toBeInstanceOf(RancherError);
  });
});
