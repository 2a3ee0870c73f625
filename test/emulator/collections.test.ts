// Collections (reference §7): filters with modifiers, sort/order, limit/marker pagination, removed keys and _removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createActiveKey, list, textAt, type Wire, waitForState } from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';

let emu: Emulator;
const BASE = '/v2-beta/projects/1a5/apikeys';
const created: Wire[] = [];

beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 5 });
  const specs = [
    { name: 'alpha-1', description: 'first' },
    { name: 'alpha-2', description: 'second' },
    { name: 'beta', description: null },
    { name: 'Gamma', description: 'third' },
  ];
  for (const body of specs) created.push(await createActiveKey(emu, emu.user, BASE, body));
});
afterAll(() => emu.close());

async function names(query: string): Promise<unknown[]> {
  const answer = await call(emu, 'GET', `${BASE}?${query}`, { auth: emu.user });
  expect(answer.status).toBe(200);
  return list(answer.body).map((k) => k.name);
}

describe('filters', () => {
  it.each([
    ['name=beta', ['beta']],
    ['name=GAMMA', ['Gamma']],
    ['name_ne=beta', ['alpha-1', 'alpha-2', 'Gamma']],
    ['name_prefix=alpha', ['alpha-1', 'alpha-2']],
    ['name_like=%25a-%25', ['alpha-1', 'alpha-2']],
    ['name_like=_eta', ['beta']],
    ['name_notlike=alpha%25', ['beta', 'Gamma']],
    ['description_null=', ['beta']],
    ['description_notnull=', ['alpha-1', 'alpha-2', 'Gamma']],
    ['description_ne=first', ['alpha-2', 'Gamma']],
    ['name_prefix=alpha&description=second', ['alpha-2']],
    ['nmae=ignored-unknown-field', ['alpha-1', 'alpha-2', 'beta', 'Gamma']],
    ['state=active&kind=apiKey&accountId=1a5', ['alpha-1', 'alpha-2', 'beta', 'Gamma']],
    ['state_ne=active', []],
  ])('?%s selects %j', async (query, expected) => {
    expect(await names(query)).toEqual(expected);
  });

  it('filters by publicValue find exactly one key', async () => {
    const key = created[2];
    expect(await names(`publicValue=${textAt(key, 'publicValue')}`)).toEqual(['beta']);
  });

  it('date filters lt and gt compare created', async () => {
    const future = '2999-01-01T00:00:00Z';
    expect(await names(`created_lt=${future}`)).toHaveLength(4);
    expect(await names(`created_gt=${future}`)).toEqual([]);
  });

  it('the collection echoes applied filters and offers a sort link per filterable field', async () => {
    const answer = await call(emu, 'GET', `${BASE}?name=beta&limit=2`, { auth: emu.user });
    const filters = Object(answer.body.filters);
    expect(filters.name).toEqual([{ modifier: 'eq', value: 'beta' }]);
    expect(filters.state).toBeNull();
    expect(textAt(answer.body, 'sortLinks', 'name')).toMatch(
      /\/v2-beta\/projects\/1a5\/apikeys\?name=beta&limit=2&sort=name$/,
    );
    expect(answer.body).toMatchObject({
      type: 'collection',
      resourceType: 'apiKey',
      createTypes: {},
      sort: null,
    });
  });
});

describe('sorting', () => {
  it('sort=name orders case-insensitively; order=desc reverses', async () => {
    expect(await names('sort=name')).toEqual(['alpha-1', 'alpha-2', 'beta', 'Gamma']);
    expect(await names('sort=name&order=desc')).toEqual(['Gamma', 'beta', 'alpha-2', 'alpha-1']);
  });

  it('sort=description puts nulls first; sorting on a non-filterable field keeps id order', async () => {
    expect(await names('sort=description')).toEqual(['beta', 'alpha-1', 'alpha-2', 'Gamma']);
    expect(await names('sort=secretValue&order=desc')).toEqual(['alpha-1', 'alpha-2', 'beta', 'Gamma']);
  });
});

describe('pagination', () => {
  it('limit truncates with partial and a next link carrying marker m<offset>; following it reaches the end', async () => {
    const first = await call(emu, 'GET', `${BASE}?limit=3`, { auth: emu.user });
    expect(list(first.body).map((k) => k.name)).toEqual(['alpha-1', 'alpha-2', 'beta']);
    expect(first.body.pagination).toMatchObject({
      partial: true,
      limit: 3,
      total: null,
      first: null,
      previous: null,
    });
    const next = textAt(first.body, 'pagination', 'next');
    expect(next).toMatch(/\?limit=3&marker=m3$/);
    const second = await call(emu, 'GET', next.slice(emu.url.length), { auth: emu.user });
    expect(list(second.body).map((k) => k.name)).toEqual(['Gamma']);
    expect(second.body.pagination).toMatchObject({ partial: false, next: null });
  });

  it('limit defaults to 100, caps at 3000, treats <= 0 as the maximum, and a foreign marker as offset 0', async () => {
    const limitOf = async (query: string) =>
      paginationLimit((await call(emu, 'GET', `${BASE}?${query}`, { auth: emu.user })).body);
    expect(await limitOf('')).toBe(100);
    expect(await limitOf('limit=5000')).toBe(3000);
    expect(await limitOf('limit=0')).toBe(3000);
    expect(await names('limit=1&marker=bogus')).toEqual(['alpha-1']);
  });
});

function paginationLimit(body: Wire): unknown {
  return Object(body.pagination).limit;
}

describe('removed keys', () => {
  it('removed keys leave lists (even with removed_notnull) but stay readable by id and listable with _removed', async () => {
    const doomed = await createActiveKey(emu, emu.user, BASE, { name: 'doomed' });
    const path = `${BASE}/${textAt(doomed, 'id')}`;
    await call(emu, 'POST', `${path}?action=deactivate`, { auth: emu.user });
    await waitForState(emu, emu.user, path, 'inactive');
    expect(await names('name=doomed')).toEqual(['doomed']);
    await call(emu, 'DELETE', path, { auth: emu.user });
    await waitForState(emu, emu.user, path, 'removed');
    expect(await names('name=doomed')).toEqual([]);
    expect(await names('removed_notnull=')).toEqual([]);
    expect(await names('name=doomed&_removed=true')).toEqual(['doomed']);
    expect((await call(emu, 'GET', path, { auth: emu.user })).body.state).toBe('removed');
  });

  it('/credentials lists the same keys as a credential collection', async () => {
    const answer = await call(emu, 'GET', '/v1/projects/1a5/credentials?kind=apiKey&sort=name', {
      auth: emu.user,
    });
    expect(answer.body.resourceType).toBe('credential');
    expect(list(answer.body).map((k) => k.name)).toEqual(['alpha-1', 'alpha-2', 'beta', 'Gamma']);
  });
});
