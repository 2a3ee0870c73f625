import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from './logger.ts';

const SECRET = 'sEcReT-1234567890';

function capture(): { logger: Logger; lines: () => string[] } {
  const out: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (s: string) => void out.push(s) } });
  return { logger, lines: () => out };
}

const placements: Array<[string, Record<string, unknown>]> = [
  ['top-level secretValue', { secretValue: SECRET }],
  ['secretValue one level deep', { apiKey: { secretValue: SECRET } }],
  ['secretValue two levels deep', { a: { b: { secretValue: SECRET } } }],
  ['secretValue six levels deep', { a: { b: { c: { d: { e: { secretValue: SECRET } } } } } }],
  ['secretValue inside an array', { keys: [{ id: '1a1', secretValue: SECRET }] }],
  ['secretKey of a connection', { credentials: { accessKey: 'AK', secretKey: SECRET } }],
  ['password', { user: { password: SECRET } }],
  ['token', { auth: { token: SECRET } }],
  ['req.headers.authorization', { req: { headers: { authorization: `Basic ${SECRET}` } } }],
  ['capitalised Authorization header', { request: { headers: { Authorization: `Bearer ${SECRET}` } } }],
  ['deep authorization header', { a: { b: { c: { headers: { authorization: SECRET } } } } }],
  ['data of a Secret', { secret: { kind: 'Secret', data: { secretValue: Buffer.from(SECRET).toString() } } }],
  ['stringData of a Secret', { object: { stringData: { anything: SECRET } } }],
  ['Buffer holding a secret', { payload: { raw: Buffer.from(SECRET) } }],
];

describe('createLogger redaction', () => {
  it.each(placements)('redacts %s at level trace', (_name, obj) => {
    const { logger, lines } = capture();
    logger.trace({ ...obj, keep: 'visible-marker' }, 'event');
    const output = lines().join('');
    expect(output).toContain('visible-marker');
    expect(output).not.toContain(SECRET);
  });

  it('redacts secrets in child logger bindings', () => {
    const { logger, lines } = capture();
    logger.child({ ctx: { token: SECRET }, name: 'child-marker' }).trace('event');
    expect(lines().join('')).toContain('child-marker');
    expect(lines().join('')).not.toContain(SECRET);
  });

  it('keeps publicValue and ordinary fields readable', () => {
    const { logger, lines } = capture();
    logger.info({ publicValue: 'PUB123', key: 'team-a/ci' }, 'created');
    const line = JSON.parse(lines()[0] ?? '{}');
    expect(line).toMatchObject({ publicValue: 'PUB123', key: 'team-a/ci', msg: 'created', level: 30 });
  });

  it('does not mutate the logged object', () => {
    const { logger } = capture();
    const obj = { apiKey: { secretValue: SECRET } };
    logger.info(obj, 'x');
    expect(obj.apiKey.secretValue).toBe(SECRET);
  });

  it('drops entries below the configured level', () => {
    const out: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (s: string) => void out.push(s) } });
    logger.info('hidden');
    logger.warn('shown');
    expect(out).toHaveLength(1);
  });
});

describe('createLogger error serializer', () => {
  const apiException = () =>
    new ApiException(
      409,
      'Conflict',
      JSON.stringify({ kind: 'Status', reason: 'Conflict', message: `data: ${SECRET}` }),
      { authorization: `Bearer ${SECRET}` },
    );

  it('reduces an ApiException to type, reason code, status and first message line', () => {
    const { logger, lines } = capture();
    logger.error({ err: apiException() }, 'cannot update secret');
    const line = JSON.parse(lines()[0] ?? '{}');
    expect(line.err).toEqual({
      type: 'ApiException',
      code: 'Conflict',
      status: 409,
      message: 'HTTP-Code: 409',
    });
    expect(lines().join('')).not.toContain(SECRET);
  });

  it('serializes an error passed as the first argument without its body', () => {
    const { logger, lines } = capture();
    logger.error(apiException(), 'failed');
    expect(lines().join('')).toContain('ApiException');
    expect(lines().join('')).not.toContain(SECRET);
  });

  it('drops body, headers and response of an undici-style error', () => {
    const err = Object.assign(new Error(`Response Error\n${SECRET}`), {
      code: 'UND_ERR_RESPONSE',
      statusCode: 500,
      body: { secretValue: SECRET },
      headers: { authorization: SECRET },
      response: SECRET,
    });
    const { logger, lines } = capture();
    logger.warn({ err }, 'rancher call failed');
    const line = JSON.parse(lines()[0] ?? '{}');
    expect(line.err).toEqual({
      type: 'Error',
      code: 'UND_ERR_RESPONSE',
      status: 500,
      message: 'Response Error',
    });
  });

  it('serializes errors nested under other keys and their causes safely', () => {
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', body: SECRET });
    const err = new TypeError('cannot create key', { cause });
    const { logger, lines } = capture();
    logger.error({ result: { error: err } }, 'reconcile failed');
    const line = JSON.parse(lines()[0] ?? '{}');
    expect(line.result.error).toEqual({
      type: 'TypeError',
      message: 'cannot create key',
      cause: { type: 'Error', code: 'ECONNRESET', message: 'socket hang up' },
    });
    expect(lines().join('')).not.toContain(SECRET);
  });

  it('names a DOMException by its error name', () => {
    const { logger, lines } = capture();
    logger.warn({ err: new DOMException('This operation was aborted', 'AbortError') }, 'stopped');
    expect(JSON.parse(lines()[0] ?? '{}').err.type).toBe('AbortError');
  });
});
