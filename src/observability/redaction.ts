import { ApiException } from '@kubernetes/client-node';
import { z } from 'zod';

/** REDACTED is the censor that replaces every secret value in log output. */
export const REDACTED = '[Redacted]';

/**
 * SECRET_KEYS lists the property names whose values are never logged, at any depth, in any letter case.
 * `data`/`stringData` cover Secret payloads; `authorization`/`cookie` cover HTTP headers.
 */
export const SECRET_KEYS: readonly string[] = [
  'secretValue',
  'secretKey',
  'password',
  'token',
  'bearerToken',
  'accessToken',
  'refreshToken',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'data',
  'stringData',
];

const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
const MAX_DEPTH = 8;
const MAX_MESSAGE_LENGTH = 300;

/**
 * redactPaths returns pino `redact` paths for every secret key at the root and one level deep, plus the usual
 * two-level header and Secret paths. Deeper nesting and other letter cases are covered by scrubSecrets,
 * which runs before pino's redaction (wildcard paths two or more levels deep cost ~10x per log line).
 */
export function redactPaths(): string[] {
  const keyPaths = SECRET_KEYS.flatMap((key) => {
    const access = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
    return [access.startsWith('.') ? key : access, `*${access}`];
  });
  const twoLevel = [
    'req.headers.authorization',
    'request.headers.authorization',
    'res.headers["set-cookie"]',
    'response.headers["set-cookie"]',
    'secret.data',
    'secret.stringData',
    'object.data',
    'object.stringData',
  ];
  return [...keyPaths, ...twoLevel];
}

/** SafeError is the only shape in which an error reaches a log line. */
export type SafeError = {
  type: string;
  code?: string;
  status?: number;
  message: string;
  cause?: SafeError;
};

/**
 * serializeError reduces any thrown value to `{ type, code, status, message, cause? }`: never a response body,
 * headers or stack, and only the first line of the message (client-node's ApiException embeds body and
 * headers after it).
 */
export function serializeError(err: unknown, depth = 0): SafeError {
  if (!(err instanceof Error)) return serializeNonError(err);
  const safe: SafeError = { type: errorType(err), message: errorMessage(err) };
  const fields = readErrorFields(err);
  if (fields.code !== undefined) safe.code = fields.code;
  if (fields.status !== undefined) safe.status = fields.status;
  if (err.cause !== undefined && depth < 3) safe.cause = serializeError(err.cause, depth + 1);
  return safe;
}

function serializeNonError(value: unknown): SafeError {
  if (typeof value === 'string') return { type: 'string', message: firstLine(value) };
  const parsed = z.object({ type: z.string(), message: z.string() }).safeParse(value);
  if (parsed.success) {
    // Already serialized (for example by scrubSecrets before pino applies the err serializer).
    const again = z.object({ code: z.string().optional(), status: z.number().optional() }).safeParse(value);
    return { ...parsed.data, message: firstLine(parsed.data.message), ...(again.success ? again.data : {}) };
  }
  return { type: value === null ? 'null' : typeof value, message: 'non-error value thrown' };
}

function errorType(err: Error): string {
  if (err.name && err.name !== 'Error') return err.name;
  return err.constructor?.name || 'Error';
}

function errorMessage(err: Error): string {
  if (err instanceof z.ZodError) {
    return firstLine(err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return firstLine(err.message);
}

const FieldsSchema = z.object({
  code: z.union([z.string(), z.number()]).optional(),
  status: z.number().optional(),
  statusCode: z.number().optional(),
});
const StatusBodySchema = z.object({ reason: z.string() });

function readErrorFields(err: Error): { code?: string; status?: number } {
  if (err instanceof ApiException) {
    return { status: err.code, ...apiExceptionReason(err.body) };
  }
  const parsed = FieldsSchema.safeParse(err);
  if (!parsed.success) return {};
  const { code, status, statusCode } = parsed.data;
  const out: { code?: string; status?: number } = {};
  if (typeof code === 'string') out.code = code;
  const httpStatus = status ?? statusCode;
  if (httpStatus !== undefined) out.status = httpStatus;
  return out;
}

function apiExceptionReason(body: unknown): { code?: string } {
  if (typeof body !== 'string') return {};
  try {
    const parsed = StatusBodySchema.safeParse(JSON.parse(body));
    return parsed.success ? { code: parsed.data.reason } : {};
  } catch {
    return {};
  }
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH)}...` : line;
}

/**
 * scrubSecrets returns a copy of `value` in which every secret key (see SECRET_KEYS) at any depth is replaced
 * by REDACTED and every Error is reduced by serializeError; it never mutates its input.
 */
export function scrubSecrets(value: unknown): unknown {
  return scrub(value, 0, new WeakSet());
}

/** scrubRecord is scrubSecrets for the merged object of a log call (pino's formatters.log). */
export function scrubRecord(record: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>([record]);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    out[key] = SECRET_KEY_SET.has(key.toLowerCase()) ? REDACTED : scrub(v, 1, seen);
  }
  return out;
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
    if (hasToJSON(value)) return scrub(value.toJSON(), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY_SET.has(key.toLowerCase()) ? REDACTED : scrub(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function hasToJSON(value: object): value is { toJSON(): unknown } {
  return 'toJSON' in value && typeof value.toJSON === 'function';
}
