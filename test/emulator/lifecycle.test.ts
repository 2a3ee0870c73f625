// The credential state machine (reference §3): actions per state, action calls, DELETE vs remove, PUT, purge.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createActiveKey, textAt, waitForState } from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';
import { actionsFor } from './state-machine.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 40, autoPurgeDelayMs: 'rancher' });
});
afterAll(() => emu.close());

async function activeKeyPath(): Promise<string> {
  const created = await createActiveKey(emu, emu.user, '/v1/apikeys', { name: 'lifecycle' });
  return `/v1/apikeys/${textAt(created, 'id')}`;
}

const act = (path: string, action: string) =>
  call(emu, 'POST', `${path}?action=${action}`, { auth: emu.user });

describe('actions offered per state', () => {
  it.each([
    ['requested', ['create', 'deactivate', 'remove']],
    ['registering', ['activate', 'deactivate', 'remove']],
    ['activating', ['deactivate']],
    ['active', ['deactivate', 'update']],
    ['deactivating', []],
    ['inactive', ['activate', 'remove', 'update']],
    ['updating-active', ['deactivate', 'remove']],
    ['updating-inactive', ['deactivate', 'remove']],
    ['removing', []],
    ['removed', ['purge']],
    ['purging', []],
    ['purged', []],
  ] as const)('%s offers %j', (state, expected) => {
    expect(actionsFor(state)).toEqual(expected);
  });

  it('a resource lists exactly the actions of its state as /{id}/?action=x links', async () => {
    const path = await activeKeyPath();
    const active = await call(emu, 'GET', path, { auth: emu.user });
    const self = textAt(active.body, 'links', 'self');
    expect(active.body.actions).toEqual({
      deactivate: `${self}/?action=deactivate`,
      update: `${self}/?action=update`,
    });
  });
});

describe('action calls', () => {
  it('deactivate answers 202 deactivating, then the key is inactive and offers activate, remove, update', async () => {
    const path = await activeKeyPath();
    const answer = await act(path, 'deactivate');
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      state: 'deactivating',
      transitioning: 'yes',
      transitioningMessage: 'In Progress',
    });
    const inactive = await waitForState(emu, emu.user, path, 'inactive');
    expect(Object.keys(Object(inactive.body.actions))).toEqual(['activate', 'remove', 'update']);
    expect(inactive.body).toMatchObject({ transitioning: 'no', transitioningMessage: null });
  });

  it('activate brings an inactive key back through activating to active', async () => {
    const path = await activeKeyPath();
    await act(path, 'deactivate');
    await waitForState(emu, emu.user, path, 'inactive');
    expect((await act(path, 'activate')).body.state).toBe('activating');
    await waitForState(emu, emu.user, path, 'active');
  });

  it('deactivate while registering wins: the key ends inactive and never becomes active', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: {} });
    const path = `/v1/apikeys/${textAt(created.body, 'id')}`;
    expect(created.body.actions).toHaveProperty('deactivate');
    expect((await act(path, 'deactivate')).status).toBe(202);
    await waitForState(emu, emu.user, path, 'inactive');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await call(emu, 'GET', path, { auth: emu.user })).body.state).toBe('inactive');
  });

  it('update on an active key passes through updating-active and returns to active', async () => {
    const path = await activeKeyPath();
    expect((await act(path, 'update')).body.state).toBe('updating-active');
    await waitForState(emu, emu.user, path, 'active');
  });

  it('remove on an active key is 422 ActionNotAvailable on field action', async () => {
    const answer = await act(await activeKeyPath(), 'remove');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      code: 'ActionNotAvailable',
      fieldName: 'action',
      message: null,
      detail: null,
    });
  });

  it('an action name outside the schema is 422 InvalidAction, checked before the id exists', async () => {
    const answer = await act('/v1/apikeys/1c999999', 'restore');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'InvalidAction', fieldName: 'action' });
    expect((await act('/v1/apikeys/1c999999', 'deactivate')).status).toBe(404);
  });

  it('an action response carries the stored SHA256 hash of the secret in secretValue, never the clear secret', async () => {
    const created = await createActiveKey(emu, emu.user);
    const answer = await act(`/v1/apikeys/${textAt(created, 'id')}`, 'deactivate');
    const [hasher, salt, hash] = textAt(answer.body, 'secretValue').split(':');
    expect(hasher).toBe('SHA256');
    expect(salt).toMatch(/^[0-9a-f]{20}$/);
    const expected = createHash('sha256')
      .update(`${salt}${textAt(created, 'secretValue')}`)
      .digest('hex');
    expect(hash).toBe(expected);
  });
});

describe('DELETE compared with remove', () => {
  it('DELETE on an active key is 405 Method not allowed and changes nothing', async () => {
    const path = await activeKeyPath();
    const answer = await call(emu, 'DELETE', path, { auth: emu.user });
    expect(answer.status).toBe(405);
    expect(answer.body).toMatchObject({
      status: 405,
      code: 'Method not allowed',
      message: 'Method not allowed',
    });
    expect((await call(emu, 'GET', path, { auth: emu.user })).body.state).toBe('active');
  });

  it('DELETE on an inactive key answers 200 removing with a null secret, then removed with removed set', async () => {
    const path = await activeKeyPath();
    await act(path, 'deactivate');
    await waitForState(emu, emu.user, path, 'inactive');
    const answer = await call(emu, 'DELETE', path, { auth: emu.user });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ state: 'removing', secretValue: null, removed: null });
    const removed = await waitForState(emu, emu.user, path, 'removed');
    expect(textAt(removed.body, 'removed')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(removed.body.removedTS).toBeTypeOf('number');
    expect(removed.body.actions).toEqual({ purge: expect.stringContaining('?action=purge') });
  });

  it('DELETE on a removed key is a 200 no-op, on a key mid-process 409 Conflict', async () => {
    const path = await activeKeyPath();
    await act(path, 'deactivate');
    expect((await call(emu, 'DELETE', path, { auth: emu.user })).status).toBe(409);
    await waitForState(emu, emu.user, path, 'inactive');
    await call(emu, 'DELETE', path, { auth: emu.user });
    await waitForState(emu, emu.user, path, 'removed');
    const again = await call(emu, 'DELETE', path, { auth: emu.user });
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('removed');
  });

  it('a key removed straight from registering never becomes active', async () => {
    const created = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: {} });
    const path = `/v1/apikeys/${textAt(created.body, 'id')}`;
    expect((await call(emu, 'DELETE', path, { auth: emu.user })).status).toBe(200);
    await waitForState(emu, emu.user, path, 'removed');
  });
});

describe('PUT', () => {
  it('PUT changes name and description in place, keeps the state and drops other fields', async () => {
    const path = await activeKeyPath();
    const before = await call(emu, 'GET', path, { auth: emu.user });
    const body = { name: 'renamed', description: 'new text', publicValue: 'HIJACK', state: 'inactive' };
    const answer = await call(emu, 'PUT', path, { auth: emu.user, body });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      name: 'renamed',
      description: 'new text',
      state: 'active',
      secretValue: null,
    });
    expect(answer.body.publicValue).toBe(before.body.publicValue);
  });

  it('PUT with a non-string name is 422 InvalidFormat on name', async () => {
    const answer = await call(emu, 'PUT', await activeKeyPath(), { auth: emu.user, body: { name: 42 } });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'InvalidFormat', fieldName: 'name' });
  });
});

describe('automatic purge', () => {
  it('a removed key gets removeTime and is purged by itself after autoPurgeDelayMs', async () => {
    const fast = await startEmulator({ transitionDelayMs: 5, autoPurgeDelayMs: 60 });
    try {
      const created = await createActiveKey(fast, fast.admin);
      const path = `/v1/apikeys/${textAt(created, 'id')}`;
      await call(fast, 'POST', `${path}?action=deactivate`, { auth: fast.admin });
      await waitForState(fast, fast.admin, path, 'inactive');
      await call(fast, 'POST', `${path}?action=remove`, { auth: fast.admin });
      const removed = await waitForState(fast, fast.admin, path, 'removed');
      expect(removed.body.removeTime).toBeTypeOf('string');
      await waitForState(fast, fast.admin, path, 'purged', 3_000);
      expect(fast.keys().find((k) => k.id === created.id)?.state).toBe('purged');
    } finally {
      await fast.close();
    }
  });
});
