import { MockAgent } from 'undici';
import { createRancherClient } from './client.ts';
import type { RancherCallReport, RancherClient, RancherClientOptions } from './types.ts';

/** ORIGIN is the fake Rancher origin that unit tests intercept. */
export const ORIGIN = 'https://rancher.test';

/** ADMIN_SECRET is the client's own secret key in unit tests; it must never appear in an error. */
export const ADMIN_SECRET = 'AdminSecretKeyThatMustNeverLeak0123456789';

/** wireKey returns an apiKey wire object as Rancher serialises it, with `overrides` applied. */
export function wireKey(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const id = typeof overrides.id === 'string' ? overrides.id : '1c12';
  const base = `${ORIGIN}/v1/apikeys/${id}`;
  return {
    id,
    type: 'apiKey',
    baseType: 'credential',
    kind: 'apiKey',
    name: 'op-key',
    description: 'managed',
    state: 'active',
    transitioning: 'no',
    transitioningMessage: null,
    accountId: '1a5',
    publicValue: '8F3A1C0D9E7B6A5F4C21',
    secretValue: null,
    created: '2017-06-01T10:00:00Z',
    createdTS: 1496311200000,
    removed: null,
    uuid: '3f0c2d8e-6a41-4c55-9a8e-1b2c3d4e5f60',
    links: { self: base, account: `${base}/account` },
    actions: { deactivate: `${base}/?action=deactivate`, update: `${base}/?action=update` },
    ...overrides,
  };
}

/** errorBody returns a Rancher error resource with the given status and code. */
export function errorBody(status: number, code: string, fieldName?: string): Record<string, unknown> {
  return {
    id: 'e1',
    type: 'error',
    links: {},
    actions: {},
    baseType: 'error',
    status,
    code,
    message: null,
    fieldName,
  };
}

/** MockedClient is a client wired to a MockAgent, with the calls reported to its metrics hook. */
export interface MockedClient {
  agent: MockAgent;
  client: RancherClient;
  calls: RancherCallReport[];
}

/** mockedClient builds a v1 admin client over a MockAgent that refuses real network access. */
export function mockedClient(overrides: Partial<RancherClientOptions> = {}): MockedClient {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const calls: RancherCallReport[] = [];
  const client = createRancherClient({
    url: ORIGIN,
    version: 'v1',
    credentials: { accessKey: 'ADMINACCESSKEY000001', secretKey: ADMIN_SECRET },
    dispatcher: agent,
    retryBackoffMs: 1,
    onCall: (c) => calls.push(c),
    ...overrides,
  });
  return { agent, client, calls };
}

/** JSON_HEADERS are the response headers Rancher sends with every JSON body. */
export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
