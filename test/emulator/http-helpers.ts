import type { Emulator } from './index.ts';

/** Credentials are an access key and secret key pair used for HTTP Basic. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** Wire is a JSON object as received; tests read it with `at`, `text` and `list`. */
export type Wire = Record<string, unknown>;

/** Answer is a response read fully: status, headers and the JSON object body ({} when not a JSON object). */
export interface Answer {
  status: number;
  headers: Headers;
  body: Wire;
  text: string;
}

function isWire(value: unknown): value is Wire {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** at reads a nested value by path, undefined when any step is missing. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === 'number') current = Array.isArray(current) ? current[step] : undefined;
    else current = isWire(current) ? current[step] : undefined;
  }
  return current;
}

/** textAt reads a nested string, failing the test when it is not one. */
export function textAt(value: unknown, ...path: (string | number)[]): string {
  const found = at(value, ...path);
  if (typeof found !== 'string')
    throw new Error(`expected a string at ${path.join('.')}, got ${String(found)}`);
  return found;
}

/** list reads a nested array of objects (a collection's data by default). */
export function list(value: unknown, ...path: (string | number)[]): Wire[] {
  const found = at(value, ...(path.length === 0 ? ['data'] : path));
  if (!Array.isArray(found)) throw new Error(`expected an array at ${path.join('.') || 'data'}`);
  return found.filter(isWire);
}

/** CallOptions add credentials, a JSON body and extra headers to a test request. */
export interface CallOptions {
  auth?: Credentials | null;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** basicHeader renders an HTTP Basic Authorization header value. */
export function basicHeader(auth: Credentials): string {
  return `Basic ${Buffer.from(`${auth.accessKey}:${auth.secretKey}`).toString('base64')}`;
}

/** call sends one request to the emulator (path relative to its url) and reads the whole answer. */
export async function call(
  emu: Emulator,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers.authorization = basicHeader(opts.auth);
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const response = await fetch(`${emu.url}${path}`, { method, headers, body, signal: opts.signal });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: isWire(parsed) ? parsed : {}, text };
}

/** waitForState polls GET by id until the key reaches the state (or fails after timeoutMs). */
export async function waitForState(
  emu: Emulator,
  auth: Credentials,
  path: string,
  state: string,
  timeoutMs = 5_000,
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await call(emu, 'GET', path, { auth });
    if (answer.body?.state === state) return answer;
    if (Date.now() > deadline)
      throw new Error(`key at ${path} stayed ${answer.body?.state}, wanted ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** createActiveKey creates a key, waits until it is active, and returns the create answer's body (with the secret). */
export async function createActiveKey(
  emu: Emulator,
  auth: Credentials,
  path = '/v1/apikeys',
  body = {},
): Promise<Wire> {
  const created = await call(emu, 'POST', path, { auth, body });
  if (created.status !== 201) throw new Error(`create failed with ${created.status}: ${created.text}`);
  await waitForState(emu, auth, `${path}/${textAt(created.body, 'id')}`, 'active');
  return created.body;
}

/** credentialsOf turns a create response into credentials for HTTP Basic. */
export function credentialsOf(created: Wire): Credentials {
  return { accessKey: textAt(created, 'publicValue'), secretKey: textAt(created, 'secretValue') };
}
