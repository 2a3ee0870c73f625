import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RancherApiKey, RancherCallReport, RancherClient } from '../../src/rancher/index.ts';
import type { Emulator } from '../emulator/index.ts';
import { clientFor, randomPublicValue, randomSecretValue, startTestEmulator } from './support.ts';

let emu: Emulator;
let client: RancherClient;
let calls: RancherCallReport[];
const scope = { environment: '1a5' };

beforeAll(async () => {
  emu = await startTestEmulator();
});
afterAll(async () => {
  await emu.close();
});
afterEach(async () => {
  emu.clearFaults();
  await client.close();
});

function faultyClient(timeouts: { headersMs?: number; deadlineMs?: number } = {}): RancherClient {
  calls = [];
  emu.resetRequests();
  client = clientFor(emu, 'admin', 'v1', { timeouts, onCall: (c) => calls.push(c) });
  return client;
}

async function activeKey(c: RancherClient): Promise<RancherApiKey> {
  const done = await c.waitForTransition(await c.createKey({ name: 'fault' }, scope), { intervalMs: 10 });
  if (done === undefined) throw new Error('key vanished');
  emu.resetRequests();
  calls.length = 0;
  return done;
}

const keyCount = () => emu.keys().length;

describe('idempotent reads under faults', () => {
  it('survive a single 503 by retrying', async () => {
    const key = await activeKey(faultyClient());
    emu.setFault({ route: 'GET /apikeys/:id', kind: 'status', status: 503, times: 1 });
    expect((await client.getKey(key.id, scope))?.state).toBe('active');
    expect(calls.map((c) => c.status)).toEqual([503, 200]);
  });

  it.each(['reset', 'outage'] as const)('survive a single %s by retrying', async (kind) => {
    const key = await activeKey(faultyClient());
    emu.setFault({ route: 'GET /apikeys/:id', kind, times: 1 });
    expect((await client.getKey(key.id, scope))?.id).toBe(key.id);
    expect(calls.map((c) => c.status)).toEqual(['error', 200]);
  });

  it('survive a hung request: the headers timeout fires and the retry succeeds', async () => {
    const key = await activeKey(faultyClient({ headersMs: 300, deadlineMs: 5_000 }));
    emu.setFault({ route: 'GET /apikeys/:id', kind: 'hang', times: 1 });
    expect((await client.getKey(key.id, scope))?.id).toBe(key.id);
    expect(calls.map((c) => c.status)).toEqual(['error', 200]);
  });

  it('fail with Timeout when latency exceeds the deadline, and succeed under it', async () => {
    const key = await activeKey(faultyClient({ deadlineMs: 400 }));
    emu.setFault({ route: 'GET /apikeys/:id', kind: 'latency', latencyMs: 100, times: 1 });
    expect((await client.getKey(key.id, scope))?.id).toBe(key.id);
    emu.setFault({ route: 'GET /apikeys/:id', kind: 'latency', latencyMs: 2_000 });
    const started = performance.now();
    await expect(client.getKey(key.id, scope)).rejects.toMatchObject({ code: 'Timeout' });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('give up with ServerError after the configured retries', async () => {
    const key = await activeKey(faultyClient());
    emu.setFault({ route: 'GET /apikeys/:id', kind: 'status', status: 500 });
    await expect(client.getKey(key.id, scope)).rejects.toMatchObject({ code: 'ServerError', status: 500 });
    expect(emu.requests().byRoute['GET /apikeys/:id']).toBe(3);
  });
});

describe('createKey under faults is never retried', () => {
  it.each([
    ['status 503', { kind: 'status', status: 503 } as const, 'ServerError'],
    ['reset', { kind: 'reset' } as const, 'Transport'],
    ['outage', { kind: 'outage' } as const, 'Transport'],
  ])('%s fails once and creates nothing', async (_name, fault, code) => {
    faultyClient();
    const before = keyCount();
    emu.setFault({ route: 'POST /apikeys', ...fault });
    await expect(client.createKey({ name: 'never' }, scope)).rejects.toMatchObject({ code });
    expect(emu.requests().byRoute['POST /apikeys']).toBe(1);
    expect(keyCount()).toBe(before);
  });

  it('a hung create fails with Timeout after one request', async () => {
    faultyClient({ headersMs: 300 });
    emu.setFault({ route: 'POST /apikeys', kind: 'hang' });
    await expect(client.createKey({ name: 'hung' }, scope)).rejects.toMatchObject({ code: 'Timeout' });
    expect(emu.requests().byRoute['POST /apikeys']).toBe(1);
  });

  it('a lost create response surfaces Transport, and the key is found again by its supplied publicValue', async () => {
    faultyClient();
    const publicValue = randomPublicValue();
    emu.setFault({ route: 'POST /apikeys', kind: 'lostResponse', times: 1 });
    const create = client.createKey({ name: 'lost', publicValue, secretValue: randomSecretValue() }, scope);
    await expect(create).rejects.toMatchObject({ code: 'Transport' });
    expect(emu.requests().byRoute['POST /apikeys']).toBe(1);
    expect((await client.findKeyByPublicValue(publicValue, scope))?.publicValue).toBe(publicValue);
  });
});

describe('actions under faults', () => {
  it('a lost deactivate response surfaces Transport without a resend; Rancher did deactivate', async () => {
    const key = await activeKey(faultyClient());
    emu.setFault({ route: 'POST /apikeys/:id?action=deactivate', kind: 'lostResponse', times: 1 });
    await expect(client.deactivateKey(key)).rejects.toMatchObject({ code: 'Transport' });
    expect(emu.requests().byRoute['POST /apikeys/:id?action=deactivate']).toBe(1);
    const after = await client.waitForTransition((await client.getKey(key.id, scope)) ?? key, {
      intervalMs: 10,
    });
    expect(after?.state).toBe('inactive');
  });

  it('a 500 on an action is ServerError and is not resent', async () => {
    const key = await activeKey(faultyClient());
    emu.setFault({ route: 'POST /apikeys/:id?action=deactivate', kind: 'status', status: 500 });
    await expect(client.deactivateKey(key)).rejects.toMatchObject({ code: 'ServerError', status: 500 });
    expect(emu.requests().byRoute['POST /apikeys/:id?action=deactivate']).toBe(1);
    expect((await client.getKey(key.id, scope))?.state).toBe('active');
  });

  it('a PUT survives a single 409 Conflict by retrying', async () => {
    const key = await activeKey(faultyClient());
    emu.setFault({ route: 'PUT /apikeys/:id', kind: 'status', status: 409, times: 1 });
    expect((await client.updateKey(key, { description: 'after conflict' })).description).toBe(
      'after conflict',
    );
    expect(emu.requests().byRoute['PUT /apikeys/:id']).toBe(2);
  });
});

describe('verifyKey under faults', () => {
  it('throws instead of answering false when Rancher is down', async () => {
    const key = await activeKey(faultyClient());
    emu.setFault({ kind: 'outage' });
    const err = await client
      .verifyKey({ accessKey: key.publicValue, secretKey: 'unknown' }, scope)
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'Transport' });
  });
});
