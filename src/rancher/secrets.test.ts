import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, type MockedClient, mockedClient, ORIGIN, wireKey } from './client.test-support.ts';
import { RancherError } from './errors.ts';
import { RancherApiKeySchema } from './schemas.ts';

const CREATED_SECRET = 'kzP3tW9hQm2xRfA7cVnB4yJdL8gS6uEeH1rTqYwZ';
const SUPPLIED_SECRET = 'SuppliedSecretValueFromTheOperator000001';
const VERIFIED_SECRET = 'SecretUnderVerificationMustNotLeak000001';
const SECRETS = [ADMIN_SECRET, CREATED_SECRET, SUPPLIED_SECRET, VERIFIED_SECRET];

let m: MockedClient;
afterEach(async () => {
  await m.client.close();
  await m.agent.close();
});

/** everythingAbout renders an error every way a logger or a caller could: message, stack, props, cause. */
function everythingAbout(err: unknown): string {
  const own =
    err instanceof Error
      ? Object.getOwnPropertyNames(err).map((k) => `${k}=${String(Reflect.get(err, k))}`)
      : [];
  return [inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err), String(err), ...own].join('\n');
}

function expectNoSecret(err: unknown): void {
  expect(err).toBeInstanceOf(RancherError);
  const text = everythingAbout(err);
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(`x:${secret}`).toString('base64').slice(4, 30));
  }
}

describe('no secret reaches an error', () => {
  it('a 422 whose body echoes the supplied secret', async () => {
    m = mockedClient();
    const body = {
      type: 'error',
      status: 422,
      code: 'NotUnique',
      message: `dup ${SUPPLIED_SECRET}`,
      secretValue: SUPPLIED_SECRET,
    };
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys', method: 'POST' }).reply(422, body);
    const err = await m.client
      .createKey({ publicValue: 'AAAAAAAAAAAAAAAAAAAA', secretValue: SUPPLIED_SECRET })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NotUnique' });
    expectNoSecret(err);
  });

  it('a 500 whose body echoes the request and its Authorization header', async () => {
    m = mockedClient({ retries: 0 });
    const auth = `Basic ${Buffer.from(`ADMINACCESSKEY000001:${ADMIN_SECRET}`).toString('base64')}`;
    const body = { code: 'Internal Server Error', detail: `authorization: ${auth} body: ${SUPPLIED_SECRET}` };
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys', method: 'POST' }).reply(500, body);
    expectNoSecret(await m.client.createKey({ secretValue: SUPPLIED_SECRET }).catch((e: unknown) => e));
  });

  it('a rancher code that is not a short word is not copied into the error', async () => {
    m = mockedClient({ retries: 0 });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys', method: 'POST' })
      .reply(400, { code: SUPPLIED_SECRET.concat('=') });
    const err = await m.client.createKey({ secretValue: SUPPLIED_SECRET }).catch((e: unknown) => e);
    expect(err).not.toHaveProperty('rancherCode');
    expectNoSecret(err);
  });

  it('a create response that fails validation while holding the clear secret', async () => {
    m = mockedClient();
    const reply = wireKey({ state: 'bogus', secretValue: CREATED_SECRET });
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys', method: 'POST' }).reply(201, reply);
    const err = await m.client.createKey({}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'InvalidResponse' });
    expectNoSecret(err);
  });

  it('a create response whose secretValue has the wrong type', async () => {
    m = mockedClient();
    const reply = wireKey({ secretValue: { clear: CREATED_SECRET } });
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys', method: 'POST' }).reply(201, reply);
    expectNoSecret(await m.client.createKey({}).catch((e: unknown) => e));
  });

  it('a transport failure whose low-level error message holds a secret', async () => {
    m = mockedClient({ retries: 0 });
    const low = Object.assign(new Error(`write failed for ${SUPPLIED_SECRET}`), {
      code: 'ECONNRESET',
      body: SUPPLIED_SECRET,
    });
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys', method: 'POST' }).replyWithError(low);
    const err = await m.client.createKey({ secretValue: SUPPLIED_SECRET }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Transport', cause: { code: 'ECONNRESET' } });
    expectNoSecret(err);
  });

  it('verifyKey failing with a server error does not carry the pair under test', async () => {
    m = mockedClient({ retries: 0 });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys?limit=1', method: 'GET' })
      .reply(500, { detail: VERIFIED_SECRET });
    const err = await m.client
      .verifyKey({ accessKey: 'K', secretKey: VERIFIED_SECRET })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ServerError' });
    expectNoSecret(err);
  });

  it('an action response carrying the stored hash yields a key without secretValue', async () => {
    m = mockedClient();
    const reply = wireKey({ state: 'deactivating', secretValue: `SHA256:abc:${CREATED_SECRET}` });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' })
      .reply(202, reply);
    const key = await m.client.deactivateKey(RancherApiKeySchema.parse(wireKey()));
    expect(inspect(key, { depth: 10 })).not.toContain(CREATED_SECRET);
  });
});
