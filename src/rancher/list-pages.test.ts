import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, type MockedClient, mockedClient, ORIGIN, wireKey } from './client.test-support.ts';
import { RancherError } from './errors.ts';
import { INVENTORY_LIST_LIMITS, LOOKUP_LIST_LIMITS, MAX_PAGE_SIZE } from './list-pages.ts';

let m: MockedClient;
afterEach(async () => {
  await m.client.close();
  await m.agent.close();
});

const isList = (path: string) => path.startsWith('/v1/apikeys?');

/** endlessPager answers every list call with `perPage` keys and a next link that never repeats. */
function endlessPager(perPage: number, delayMs = 0): { pages(): number } {
  let served = 0;
  const scope = m.agent
    .get(ORIGIN)
    .intercept({ path: isList, method: 'GET' })
    .reply(200, () => {
      served++;
      return {
        type: 'collection',
        data: Array.from({ length: perPage }, (_, i) => wireKey({ id: `1c${served * 10_000 + i}` })),
        pagination: { next: `${ORIGIN}/v1/apikeys?limit=1000&marker=m${served * perPage}`, partial: true },
      };
    })
    .persist();
  if (delayMs > 0) scope.delay(delayMs);
  return { pages: () => served };
}

async function failureOf(promise: Promise<unknown>): Promise<RancherError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RancherError)) throw new Error(`expected a RancherError, got ${String(err)}`);
  return err;
}

describe('list limits', () => {
  it('a lookup stops at the first page holding more keys than the lookup limit', async () => {
    m = mockedClient();
    const pager = endlessPager(1_000);
    const err = await failureOf(m.client.listKeys(undefined, { description_like: '%apikey-uid:x%' }));
    expect(err.code).toBe('LimitExceeded');
    expect(err.message).toBe('cannot list keys: more than 100 keys (key limit of one list)');
    expect(pager.pages()).toBe(1);
  });

  it('findKeyByPublicValue is a lookup: a server ignoring the filter gets LimitExceeded, not a heap of keys', async () => {
    m = mockedClient();
    endlessPager(1_000);
    const err = await failureOf(m.client.findKeyByPublicValue('8F3A1C0D9E7B6A5F4C21'));
    expect(err).toMatchObject({ code: 'LimitExceeded', message: expect.stringContaining('key limit') });
  });

  it('the page limit ends a pager that sends few keys per page, without retrying', async () => {
    m = mockedClient();
    const pager = endlessPager(1);
    const err = await failureOf(m.client.listKeys());
    expect(err.message).toBe(
      `cannot list keys: more than ${LOOKUP_LIST_LIMITS.maxPages} pages (page limit of one list)`,
    );
    expect(pager.pages()).toBe(LOOKUP_LIST_LIMITS.maxPages);
    expect(m.calls).toHaveLength(LOOKUP_LIST_LIMITS.maxPages);
  });

  it('the byte limit counts every page of the list and stops inside the page that crosses it', async () => {
    m = mockedClient();
    endlessPager(3);
    const err = await failureOf(m.client.listKeys(undefined, {}, { maxBytes: 10_000 }));
    expect(err).toMatchObject({ code: 'LimitExceeded' });
    expect(err.message).toBe('cannot list keys: more than 10000 bytes of responses (byte limit of one list)');
    expect(m.calls.length).toBeLessThan(10);
  });

  it('one response body larger than 8 MiB is refused whatever the list allows', async () => {
    m = mockedClient();
    const huge = { data: [wireKey({ description: 'x'.repeat(9 * 1024 * 1024) })] };
    m.agent.get(ORIGIN).intercept({ path: isList, method: 'GET' }).reply(200, huge);
    const err = await failureOf(m.client.listKeys(undefined, {}, INVENTORY_LIST_LIMITS));
    expect(err).toMatchObject({
      code: 'LimitExceeded',
      message: 'cannot list keys: response body larger than 8 MiB (response limit)',
    });
  });

  it('the list deadline bounds the whole list, not each page', async () => {
    m = mockedClient();
    const pager = endlessPager(1, 100);
    const started = performance.now();
    const err = await failureOf(m.client.listKeys(undefined, {}, { maxPages: 1_000, deadlineMs: 450 }));
    expect(err).toMatchObject({ code: 'Timeout', message: 'cannot list keys: list took longer than 0.45 s' });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(pager.pages()).toBeLessThanOrEqual(5);
  });

  it('the inventory limits accept 20,000 keys and refuse the page that brings more', async () => {
    m = mockedClient();
    const pager = endlessPager(1_000);
    const err = await failureOf(m.client.listKeys(undefined, {}, INVENTORY_LIST_LIMITS));
    expect(err.message).toBe('cannot list keys: more than 20000 keys (key limit of one list)');
    expect(pager.pages()).toBe(21);
  }, 30_000); // 21,000 keys are parsed: seconds on a loaded machine, and the test asserts counts, not time

  it('keys that keep drops are not returned but still count against the key limit', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    const page = (ids: string[], next?: string) => ({
      data: ids.map((id) => wireKey({ id, description: id === '1c2' ? 'wanted' : 'other' })),
      pagination: { next: next ?? null },
    });
    pool
      .intercept({ path: '/v1/apikeys?limit=1000', method: 'GET' })
      .reply(200, page(['1c1', '1c2'], `${ORIGIN}/v1/apikeys?marker=m2`));
    pool.intercept({ path: '/v1/apikeys?marker=m2', method: 'GET' }).reply(200, page(['1c3']));
    const keep = (k: { description: string | null }) => k.description === 'wanted';
    expect((await m.client.listKeys(undefined, {}, { keep })).map((k) => k.id)).toEqual(['1c2']);
    endlessPager(60);
    const err = await failureOf(m.client.listKeys(undefined, {}, { keep: () => false }));
    expect(err.message).toContain('more than 100 keys');
  });

  it('a connection-wide list asks for pages of 3,000 keys and follows pagination.next', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys?limit=3000&description_like=%25apikey-uid%3A%25', method: 'GET' })
      .reply(200, { data: [wireKey({ id: '1c1' })], pagination: { next: `${ORIGIN}/v1/apikeys?marker=m1` } });
    pool
      .intercept({ path: '/v1/apikeys?marker=m1', method: 'GET' })
      .reply(200, { data: [wireKey({ id: '1c2' })] });
    const options = { ...INVENTORY_LIST_LIMITS, pageSize: MAX_PAGE_SIZE };
    const keys = await m.client.listKeys(undefined, { description_like: '%apikey-uid:%' }, options);
    expect(keys.map((k) => k.id)).toEqual(['1c1', '1c2']);
  });

  it('a list within its limits returns every key, and limit errors never name the server or a secret', async () => {
    m = mockedClient();
    const pool = m.agent.get(ORIGIN);
    pool
      .intercept({ path: '/v1/apikeys?limit=1000', method: 'GET' })
      .reply(200, { data: [wireKey({ id: '1c1' })], pagination: { next: `${ORIGIN}/v1/apikeys?marker=m1` } });
    pool
      .intercept({ path: '/v1/apikeys?marker=m1', method: 'GET' })
      .reply(200, { data: [wireKey({ id: '1c2' })] });
    expect((await m.client.listKeys()).map((k) => k.id)).toEqual(['1c1', '1c2']);
    endlessPager(1_000);
    const err = await failureOf(m.client.listKeys());
    expect(err.message).not.toContain(ORIGIN);
    expect(err.message).not.toContain(ADMIN_SECRET);
    expect(JSON.stringify(err)).not.toContain(ADMIN_SECRET);
  });
});
