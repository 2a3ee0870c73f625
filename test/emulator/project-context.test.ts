// The /projects/{pid} sub-context in X-API-Schemas and schema links (reference §1, "Environment scoping"), and
// HTTPS serving.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, basicHeader, type Credentials, call, list, textAt, type Wire } from './http-helpers.ts';
import { type Emulator, startEmulator } from './index.ts';
import { selfSigned } from './test-pki.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ transitionDelayMs: 5 });
});
afterAll(() => emu.close());

/** get reads an absolute URL the emulator emitted, as go-rancher does. */
async function get(url: string, auth: Credentials): Promise<{ headers: Headers; body: Wire }> {
  const response = await fetch(url, { headers: { authorization: basicHeader(auth) } });
  return { headers: response.headers, body: (await response.json()) as Wire };
}

describe('the /projects/{pid} sub-context', () => {
  it.each(['v1', 'v2-beta'])('%s: X-API-Schemas keeps it, on answers and on errors', async (v) => {
    const ok = await call(emu, 'GET', `/${v}/projects/1a5/apikeys`, { auth: emu.user });
    expect(ok.headers.get('x-api-schemas')).toBe(`${emu.url}/${v}/projects/1a5/schemas`);
    const denied = await call(emu, 'GET', `/${v}/Projects/1A5/apikeys`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('x-api-schemas')).toBe(`${emu.url}/${v}/projects/1a5/schemas`);
  });

  it.each(['v1', 'v2-beta'])('%s: the schema collection and each schema link inside it', async (v) => {
    const all = await call(emu, 'GET', `/${v}/projects/1a5/schemas`, { auth: emu.user });
    expect(textAt(all.body, 'links', 'self')).toBe(`${emu.url}/${v}/projects/1a5/schemas`);
    const apiKey = list(all.body).find((s) => s.id === 'apiKey');
    expect(at(apiKey, 'links')).toEqual({
      self: `${emu.url}/${v}/projects/1a5/schemas/apikey`,
      collection: `${emu.url}/${v}/projects/1a5/apikeys`,
    });
    const one = await call(emu, 'GET', `/${v}/projects/1a5/schemas/apiKey`, { auth: emu.user });
    expect(textAt(one.body, 'links', 'self')).toBe(`${emu.url}/${v}/projects/1a5/schemas/apikey`);
    expect(one.headers.get('x-api-account-id')).toBe('1a5');
  });

  it('without it (plain path, or only the X-API-Project-Id header) links have none', async () => {
    const plain = await call(emu, 'GET', '/v2-beta/schemas/apikey', { auth: emu.user });
    expect(plain.headers.get('x-api-schemas')).toBe(`${emu.url}/v2-beta/schemas`);
    expect(textAt(plain.body, 'links', 'collection')).toBe(`${emu.url}/v2-beta/apikeys`);
    const byHeader = await call(emu, 'GET', '/v2-beta/schemas/apikey', {
      auth: emu.user,
      headers: { 'x-api-project-id': '1a5' },
    });
    expect(byHeader.headers.get('x-api-schemas')).toBe(`${emu.url}/v2-beta/schemas`);
    expect(byHeader.headers.get('x-api-account-id')).toBe('1a5');
  });

  it('a client that starts at an environment schemas URL (go-rancher, Terraform) creates environment keys', async () => {
    // setupRancherBaseClient: GET the URL, load the schemas from X-API-Schemas, follow links.collection.
    const start = await get(`${emu.url}/v2-beta/projects/1a5/schemas`, emu.user);
    const schemasUrl = start.headers.get('x-api-schemas') ?? '';
    const schemas = await get(schemasUrl, emu.user);
    const apiKey = list(schemas.body).find((s) => s.id === 'apiKey');
    const collection = textAt(apiKey, 'links', 'collection');
    const created = await fetch(collection, {
      method: 'POST',
      headers: { authorization: basicHeader(emu.user), 'content-type': 'application/json' },
      body: '{"name":"from-schemas-url"}',
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as Wire;
    expect(key.accountId).toBe('1a5');
    expect(textAt(key, 'links', 'self')).toMatch(`${emu.url}/v2-beta/projects/1a5/apikeys/`);
  });
});

describe('HTTPS', () => {
  it('serves the API over TLS and emits https:// links and headers', async () => {
    let tlsEmu: Emulator | undefined;
    try {
      const pem = selfSigned();
      tlsEmu = await startEmulator({ transitionDelayMs: 5, tls: pem });
      expect(tlsEmu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const trusting = new Agent({ connect: { ca: pem.cert } });
      const response = await request(`${tlsEmu.url}/v1/projects/1a5/apikeys`, {
        headers: { authorization: basicHeader(tlsEmu.user) },
        dispatcher: trusting,
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-api-schemas']).toBe(`${tlsEmu.url}/v1/projects/1a5/schemas`);
      const body = (await response.body.json()) as Wire;
      expect(textAt(body, 'links', 'self')).toBe(`${tlsEmu.url}/v1/projects/1a5/apikeys`);
      await trusting.close();
    } finally {
      await tlsEmu?.close();
    }
  });
});
