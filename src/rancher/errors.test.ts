import { afterEach, describe, expect, it } from 'vitest';
import { errorBody, type MockedClient, mockedClient, ORIGIN, wireKey } from './client.test-support.ts';
import { classifyStatus, isRetryable, RancherError, type RancherErrorCode } from './errors.ts';
import { RancherApiKeySchema } from './schemas.ts';

let m: MockedClient | undefined;
afterEach(async () => {
  await m?.client.close();
  await m?.agent.close();
  m = undefined;
});

describe('classifyStatus', () => {
  const table: Array<[string, number, string | undefined, RancherErrorCode]> = [
    ['401 is Unauthorized', 401, 'Unauthorized', 'Unauthorized'],
    ['403 is Forbidden', 403, 'Forbidden', 'Forbidden'],
    ['404 is NotFound', 404, 'Not Found', 'NotFound'],
    ['405 (DELETE of an active key) is NotAllowedInState', 405, 'Method not allowed', 'NotAllowedInState'],
    ['422 ActionNotAvailable is NotAllowedInState', 422, 'ActionNotAvailable', 'NotAllowedInState'],
    ['422 InvalidAction is NotAllowedInState', 422, 'InvalidAction', 'NotAllowedInState'],
    ['422 NotUnique is NotUnique', 422, 'NotUnique', 'NotUnique'],
    ['other 422 codes are Validation', 422, 'MaxLengthExceeded', 'Validation'],
    ['422 without a body code is Validation', 422, undefined, 'Validation'],
    ['409 is Conflict', 409, 'Conflict', 'Conflict'],
    ['409 MultipleKeys is Conflict', 409, 'MultipleKeys', 'Conflict'],
    ['500 is ServerError', 500, 'Internal Server Error', 'ServerError'],
    ['503 from a proxy without a body is ServerError', 503, undefined, 'ServerError'],
    ['429 is ServerError (transient)', 429, undefined, 'ServerError'],
    ['400 is Validation', 400, 'Bad Request', 'Validation'],
    ['an unfollowed redirect is InvalidResponse', 302, undefined, 'InvalidResponse'],
  ];
  it.each(table)('%s', (_name, status, rancherCode, expected) => {
    expect(classifyStatus(status, rancherCode)).toBe(expected);
  });
});

describe('isRetryable', () => {
  it.each<[RancherErrorCode, boolean]>([
    ['Transport', true],
    ['Timeout', true],
    ['ServerError', true],
    ['Conflict', true],
    ['Unauthorized', false],
    ['NotUnique', false],
    ['NotAllowedInState', false],
    ['InvalidResponse', false],
    ['LimitExceeded', false],
  ])('%s -> %s', (code, expected) => {
    expect(isRetryable(new RancherError(code, 'x'))).toBe(expected);
  });

  it('is false for errors that are not RancherErrors', () => {
    expect(isRetryable(Object.assign(new Error('x'), { code: 'Transport' }))).toBe(false);
  });
});

describe('errors from HTTP responses', () => {
  const cases: Array<[number, Record<string, unknown>, RancherErrorCode, string | undefined]> = [
    [401, errorBody(401, 'Unauthorized'), 'Unauthorized', 'Unauthorized'],
    [403, errorBody(403, 'Forbidden'), 'Forbidden', 'Forbidden'],
    [422, errorBody(422, 'NotUnique', 'publicValue'), 'NotUnique', 'NotUnique'],
    [409, errorBody(409, 'Conflict'), 'Conflict', 'Conflict'],
    [422, errorBody(422, 'InvalidOption', 'name'), 'Validation', 'InvalidOption'],
    [500, errorBody(500, 'Internal Server Error'), 'ServerError', 'Internal Server Error'],
  ];
  it.each(cases)('createKey answered %i carries code %s (%s)', async (status, body, code) => {
    m = mockedClient();
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys', method: 'POST' }).reply(status, body);
    const err = await m.client.createKey({ name: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RancherError);
    const message = `cannot create key: HTTP ${status} ${String(body.code)}`;
    expect(err).toMatchObject({ code, status, rancherCode: body.code, message });
  });

  it('an action in the wrong state (422 ActionNotAvailable) is NotAllowedInState', async () => {
    m = mockedClient();
    const body = errorBody(422, 'ActionNotAvailable', 'action');
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' })
      .reply(422, body);
    const key = RancherApiKeySchema.parse(wireKey());
    await expect(m.client.deactivateKey(key)).rejects.toMatchObject({
      code: 'NotAllowedInState',
      status: 422,
    });
  });

  it('a body that is not JSON is InvalidResponse', async () => {
    m = mockedClient();
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c1', method: 'GET' })
      .reply(200, '<html>proxy</html>');
    await expect(m.client.getKey('1c1')).rejects.toMatchObject({ code: 'InvalidResponse', status: 200 });
  });

  it('a key with an unknown state is InvalidResponse naming the field', async () => {
    m = mockedClient();
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c1', method: 'GET' })
      .reply(200, wireKey({ state: 'melting' }));
    const err = await m.client.getKey('1c1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'InvalidResponse', message: expect.stringContaining('at state') });
  });

  it('an HTML error page from a proxy still maps by status', async () => {
    m = mockedClient({ retries: 0 });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c1', method: 'GET' })
      .reply(502, '<html>bad gateway</html>');
    const err = await m.client.getKey('1c1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ServerError', status: 502 });
    expect(err).not.toHaveProperty('rancherCode');
  });
});
