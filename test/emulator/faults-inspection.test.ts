// Fault injection and the inspection API: each fault kind, request counts, and secret-free key inspection.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createActiveKey, textAt } from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 5 });
});
afterEach(() => emu.clearFaults());
afterAll(() => emu.close());

const namedKeys = (name: string) => emu.keys().filter((k) => k.name === name);

describe('faults', () => {
  it('status answers a Rancher-shaped error without performing the change', async () => {
    emu.setFault({ route: 'POST /apikeys', kind: 'status', status: 503, times: 1 });
    const failed = await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: { name: 'status-fault' } });
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ type: 'error', status: 503, code: 'Service Unavailable' });
    expect(namedKeys('status-fault')).toHaveLength(0);
    const retried = await call(emu, 'POST', '/v1/apikeys', {
      auth: emu.user,
      body: { name: 'status-fault' },
    });
    expect(retried.status).toBe(201);
  });

  it('a used-up rule stays listed by id with hits equal to its times and no longer applies', async () => {
    const id = emu.setFault({ route: 'POST /apikeys', kind: 'status', status: 503, times: 2 });
    for (const expected of [503, 503, 201])
      expect(
        (await call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: { name: 'used-up' } })).status,
      ).toBe(expected);
    expect(emu.faults().find((r) => r.id === id)).toMatchObject({ times: 2, hits: 2, remaining: 0 });
    emu.clearFaults();
    expect(emu.faults()).toEqual([]);
  });

  it('reset destroys the connection without a response and without the change', async () => {
    emu.setFault({ route: 'POST /apikeys', kind: 'reset', times: 1 });
    await expect(
      call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: { name: 'reset-fault' } }),
    ).rejects.toThrow();
    expect(namedKeys('reset-fault')).toHaveLength(0);
  });

  it('lostResponse commits the create and then destroys the connection', async () => {
    emu.setFault({ route: 'POST /apikeys', kind: 'lostResponse', times: 1 });
    await expect(
      call(emu, 'POST', '/v1/apikeys', { auth: emu.user, body: { name: 'lost' } }),
    ).rejects.toThrow();
    expect(namedKeys('lost')).toHaveLength(1);
  });

  it('latency delays the answer, then performs normally', async () => {
    emu.setFault({ route: 'GET /apikeys', kind: 'latency', latencyMs: 150 });
    const started = performance.now();
    const answer = await call(emu, 'GET', '/v1/apikeys', { auth: emu.user });
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('hang never answers until the client gives up; other routes keep working', async () => {
    emu.setFault({ route: 'GET /apikeys/:id', kind: 'hang' });
    const hung = call(emu, 'GET', '/v1/apikeys/1c1', { auth: emu.user, signal: AbortSignal.timeout(150) });
    await expect(hung).rejects.toThrow();
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: emu.user })).status).toBe(200);
  });

  it('close() releases hung requests and resolves promptly', async () => {
    const own = await startEmulator();
    own.setFault({ kind: 'hang' });
    const pending = call(own, 'GET', '/v1/apikeys', { auth: own.user });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toThrow();
  });

  it('outage resets every Rancher request until cleared, while inspection keeps answering', async () => {
    emu.setFault({ kind: 'outage' });
    await expect(call(emu, 'GET', '/v1/apikeys', { auth: emu.user })).rejects.toThrow();
    await expect(call(emu, 'GET', '/v2-beta/schemas', { auth: emu.user })).rejects.toThrow();
    expect((await fetch(`${emu.url}/__emulator/health`)).status).toBe(200);
    emu.clearFaults();
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: emu.user })).status).toBe(200);
  });

  it('times limits a rule to the next N matching requests and a route prefix ending in * matches actions', async () => {
    emu.setFault({ route: 'POST /apikeys/:id?action=*', kind: 'status', status: 500, times: 2 });
    const key = await createActiveKey(emu, emu.user);
    const path = `/v1/apikeys/${textAt(key, 'id')}?action=deactivate`;
    expect((await call(emu, 'POST', path, { auth: emu.user })).status).toBe(500);
    expect((await call(emu, 'POST', path, { auth: emu.user })).status).toBe(500);
    expect((await call(emu, 'POST', path, { auth: emu.user })).status).toBe(202);
  });
});

describe('inspection API', () => {
  it('counts Rancher requests by normalized route, splits reads and writes, and ignores inspection calls', async () => {
    emu.resetRequests();
    const key = await call(emu, 'POST', '/v2-beta/projects/1a5/apiKeys', { auth: emu.user, body: {} });
    await call(emu, 'GET', `/v1/APIKEY/${textAt(key.body, 'id')}`, { auth: emu.user });
    await call(emu, 'POST', `/v1/apikeys/${textAt(key.body, 'id')}/?action=remove`, { auth: emu.user });
    await fetch(`${emu.url}/__emulator/keys`);
    expect(emu.requests()).toEqual({
      total: 3,
      writes: 2,
      reads: 1,
      byRoute: { 'POST /apikeys': 1, 'GET /apikeys/:id': 1, 'POST /apikeys/:id?action=remove': 1 },
    });
    const viaHttp = await (await fetch(`${emu.url}/__emulator/requests`)).json();
    expect(viaHttp).toEqual(emu.requests());
    await fetch(`${emu.url}/__emulator/requests/reset`, { method: 'POST' });
    expect(emu.requests().total).toBe(0);
  });

  it('keys() and GET /__emulator/keys list every key with its state but never a secret or hash', async () => {
    const created = await createActiveKey(emu, emu.user, '/v1/apikeys', { name: 'inspected' });
    const secret = textAt(created, 'secretValue');
    const [inspected] = namedKeys('inspected');
    expect(inspected).toEqual({
      id: created.id,
      accountId: emu.user.accountId,
      name: 'inspected',
      description: null,
      state: 'active',
      publicValue: created.publicValue,
      created: created.created,
      removed: null,
      kind: 'apiKey',
    });
    const text = await (await fetch(`${emu.url}/__emulator/keys`)).text();
    expect(text).toContain(String(created.publicValue));
    expect(text).not.toContain(secret);
    expect(text).not.toContain('SHA256');
  });

  it('faults can be set, listed and cleared over HTTP, and an invalid rule is 400', async () => {
    const set = await fetch(`${emu.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ route: 'GET /apikeys', kind: 'status', status: 502 }),
    });
    expect(set.status).toBe(201);
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: emu.user })).status).toBe(502);
    const listed = await (await fetch(`${emu.url}/__emulator/faults`)).json();
    expect(listed).toMatchObject([{ kind: 'status', status: 502, hits: 1 }]);
    const bad = await fetch(`${emu.url}/__emulator/faults`, { method: 'POST', body: '{"kind":"explode"}' });
    expect(bad.status).toBe(400);
    await fetch(`${emu.url}/__emulator/faults`, { method: 'DELETE' });
    expect((await call(emu, 'GET', '/v1/apikeys', { auth: emu.user })).status).toBe(200);
  });

  it('health reports ok and the key count', async () => {
    const health = await (await fetch(`${emu.url}/__emulator/health`)).json();
    expect(health).toEqual({ status: 'ok', keys: emu.keys().length });
  });
});
