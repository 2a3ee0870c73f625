import type { Interceptable } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { errorBody, type MockedClient, mockedClient, ORIGIN, wireKey } from './client.test-support.ts';
import { RancherApiKeySchema } from './schemas.ts';

let m: MockedClient;
afterEach(async () => {
  await m.client.close();
  await m.agent.close();
});

const socketError = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });
type Intercept = ReturnType<Interceptable['intercept']>;
const key = () => RancherApiKeySchema.parse(wireKey());

describe('retries', () => {
  it('an idempotent GET is retried after a 503 and succeeds', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
      .reply(503, errorBody(503, 'Service Unavailable'));
    pool.intercept({ path: '/v1/apikeys/1c12', method: 'GET' }).reply(200, wireKey());
    expect((await m.client.getKey('1c12'))?.id).toBe('1c12');
    expect(m.calls.map((c) => c.status)).toEqual([503, 200]);
  });

  it('an idempotent GET is retried after a connection reset, at most `retries` times', async () => {
    m = mockedClient({ retries: 2 });
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
      .replyWithError(socketError('ECONNRESET'))
      .times(3);
    await expect(m.client.getKey('1c12')).rejects.toMatchObject({ code: 'Transport' });
    expect(m.calls.map((c) => c.status)).toEqual(['error', 'error', 'error']);
  });

  it('a PUT is retried after a 409 Conflict', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    pool.intercept({ path: '/v1/apikeys/1c12', method: 'PUT' }).reply(409, errorBody(409, 'Conflict'));
    pool.intercept({ path: '/v1/apikeys/1c12', method: 'PUT' }).reply(200, wireKey({ name: 'renamed' }));
    expect((await m.client.updateKey(key(), { name: 'renamed' })).name).toBe('renamed');
  });

  it('non-retryable errors such as 401 are not retried', async () => {
    m = mockedClient();
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
      .reply(401, errorBody(401, 'Unauthorized'));
    await expect(m.client.getKey('1c12')).rejects.toMatchObject({ code: 'Unauthorized' });
    expect(m.calls).toHaveLength(1);
  });

  it.each([
    ['a 503', (p: Intercept) => p.reply(503, {})],
    ['a connection reset', (p: Intercept) => p.replyWithError(socketError('ECONNRESET'))],
    ['a refused connection', (p: Intercept) => p.replyWithError(socketError('ECONNREFUSED'))],
  ] as const)('createKey is never retried, even after %s', async (_name, fail) => {
    m = mockedClient({ retries: 5 });
    const pool = m.agent.get(ORIGIN);
    fail(pool.intercept({ path: '/v1/apikeys', method: 'POST' }));
    pool.intercept({ path: '/v1/apikeys', method: 'POST' }).reply(201, wireKey({ secretValue: 'x' }));
    await expect(m.client.createKey({ name: 'x' })).rejects.toMatchObject({ name: 'RancherError' });
    expect(m.calls).toHaveLength(1);
  });

  it('an action is not retried after a reset on a sent request (it may have been processed)', async () => {
    m = mockedClient({ retries: 5 });
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' })
      .replyWithError(socketError('UND_ERR_SOCKET'));
    await expect(m.client.deactivateKey(key())).rejects.toMatchObject({ code: 'Transport' });
    expect(m.calls).toHaveLength(1);
  });

  it('an action is not retried after a 5xx', async () => {
    m = mockedClient({ retries: 5 });
    const pool = m.agent.get(ORIGIN);
    pool.intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' }).reply(500, {});
    await expect(m.client.deactivateKey(key())).rejects.toMatchObject({ code: 'ServerError' });
    expect(m.calls).toHaveLength(1);
  });

  it('an action is retried when the connection was refused before any byte was sent', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' })
      .replyWithError(socketError('ECONNREFUSED'));
    pool
      .intercept({ path: '/v1/apikeys/1c12/?action=deactivate', method: 'POST' })
      .reply(202, wireKey({ state: 'deactivating' }));
    expect((await m.client.deactivateKey(key())).state).toBe('deactivating');
    expect(m.calls.map((c) => c.status)).toEqual(['error', 202]);
  });
});

describe('timeouts', () => {
  it('a call that outlives the deadline fails with Timeout', async () => {
    m = mockedClient({ timeouts: { deadlineMs: 50 }, retries: 0 });
    m.agent
      .get(ORIGIN)
      .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
      .reply(200, wireKey())
      .delay(2_000);
    const started = performance.now();
    await expect(m.client.getKey('1c12')).rejects.toMatchObject({
      code: 'Timeout',
      message: 'cannot get key: deadline exceeded',
    });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('the deadline bounds the whole call, retries included', async () => {
    m = mockedClient({ timeouts: { deadlineMs: 300 }, retries: 50, retryBackoffMs: 40 });
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys/1c12', method: 'GET' }).reply(503, {}).persist();
    const started = performance.now();
    await expect(m.client.getKey('1c12')).rejects.toMatchObject({ code: 'ServerError' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(m.calls.length).toBeLessThan(10);
  });

  it.each(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])(
    'undici %s maps to Timeout',
    async (code) => {
      m = mockedClient({ retries: 0 });
      m.agent
        .get(ORIGIN)
        .intercept({ path: '/v1/apikeys/1c12', method: 'GET' })
        .replyWithError(socketError(code));
      await expect(m.client.getKey('1c12')).rejects.toMatchObject({ code: 'Timeout', cause: { code } });
    },
  );
});

describe('metrics hook', () => {
  it('reports one entry per HTTP attempt with action, status and duration, and its exceptions are ignored', async () => {
    const seen: string[] = [];
    m = mockedClient({
      onCall: (c) => {
        seen.push(`${c.action}:${c.status}:${c.durationMs >= 0}`);
        throw new Error('broken hook');
      },
    });
    m.agent.get(ORIGIN).intercept({ path: '/v1/apikeys/1c12', method: 'GET' }).reply(404, {});
    expect(await m.client.getKey('1c12')).toBeUndefined();
    expect(seen).toEqual(['getKey:404:true']);
  });
});
