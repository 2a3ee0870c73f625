import { z } from 'zod';

/** RancherErrorCodeSchema lists every stable code a RancherError can carry. */
export const RancherErrorCodeSchema = z.enum([
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'NotAllowedInState',
  'NotUnique',
  'Conflict',
  'Validation',
  'ServerError',
  'Transport',
  'Timeout',
  'InvalidResponse',
  'LimitExceeded',
]);

/** RancherErrorCode is the stable, branchable classification of a failed Rancher call. */
export type RancherErrorCode = z.infer<typeof RancherErrorCodeSchema>;

/** RancherErrorOptions carries the optional details of a RancherError; none of them may hold a secret. */
export interface RancherErrorOptions {
  status?: number;
  rancherCode?: string;
  cause?: unknown;
}

/**
 * RancherError is the only error the Rancher client throws: a stable `code`, the HTTP `status` and Rancher's
 * own error `code` when there was a response, and a message that names the call and status only (never a
 * request body, header or response body).
 */
export class RancherError extends Error {
  readonly code: RancherErrorCode;
  declare readonly status?: number;
  declare readonly rancherCode?: string;

  constructor(code: RancherErrorCode, message: string, options: RancherErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RancherError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.rancherCode !== undefined) this.rancherCode = options.rancherCode;
  }
}

const RETRYABLE: ReadonlySet<RancherErrorCode> = new Set(['Transport', 'Timeout', 'ServerError', 'Conflict']);

/** isRetryable is true for transient failures (Transport, Timeout, ServerError, Conflict) worth a backoff. */
export function isRetryable(err: unknown): boolean {
  return err instanceof RancherError && RETRYABLE.has(err.code);
}

/** describeAction turns a call name such as `createKey` into the words `create key` for error messages. */
export function describeAction(action: string): string {
  return action.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

// Only `code` is kept from an error body; Rancher codes are short words ("NotUnique", "Method not allowed").
const ErrorBodySchema = z.object({ code: z.string().regex(/^[A-Za-z][A-Za-z ]{0,63}$/) });

/** parseRancherCode extracts Rancher's error `code` from a raw error body, or undefined if it has none. */
export function parseRancherCode(rawBody: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const parsed = ErrorBodySchema.safeParse(json);
  return parsed.success ? parsed.data.code : undefined;
}

const NOT_ALLOWED_CODES = new Set(['ActionNotAvailable', 'InvalidAction']);

/** classifyStatus maps an HTTP error status and Rancher error code to a RancherErrorCode. */
export function classifyStatus(status: number, rancherCode: string | undefined): RancherErrorCode {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 405) return 'NotAllowedInState';
  if (status === 409) return 'Conflict';
  if (status === 422) {
    if (rancherCode !== undefined && NOT_ALLOWED_CODES.has(rancherCode)) return 'NotAllowedInState';
    return rancherCode === 'NotUnique' ? 'NotUnique' : 'Validation';
  }
  // 408 and 429 are transient conditions of the server or a proxy in front of it.
  if (status >= 500 || status === 408 || status === 429) return 'ServerError';
  if (status >= 400) return 'Validation';
  return 'InvalidResponse';
}

/** errorFromResponse builds the RancherError for a non-2xx response from its status and raw body. */
export function errorFromResponse(action: string, status: number, rawBody: string): RancherError {
  const rancherCode = parseRancherCode(rawBody);
  const code = classifyStatus(status, rancherCode);
  const suffix = rancherCode === undefined ? '' : ` ${rancherCode}`;
  return new RancherError(code, `cannot ${describeAction(action)}: HTTP ${status}${suffix}`, {
    status,
    ...(rancherCode === undefined ? {} : { rancherCode }),
  });
}

/**
 * limitExceeded builds the LimitExceeded error for a response or list larger than the client accepts;
 * `limit` names the limit and its value (never a URL or body), e.g. `more than 100 keys (key limit)`.
 */
export function limitExceeded(action: string, limit: string): RancherError {
  return new RancherError('LimitExceeded', `cannot ${describeAction(action)}: ${limit}`);
}

/** invalidResponse builds the InvalidResponse error for a response that is not what the API promises. */
export function invalidResponse(action: string, what: string, status?: number): RancherError {
  return new RancherError('InvalidResponse', `cannot ${describeAction(action)}: ${what}`, {
    ...(status === undefined ? {} : { status }),
  });
}
