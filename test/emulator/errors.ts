import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

// messages.properties texts for errors built from a bare HTTP status (reference §6).
const STANDARD_CODES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method not allowed',
  409: 'Conflict',
  500: 'Internal Server Error',
};

/** standardCode returns Rancher's code text for an HTTP status. */
export function standardCode(status: number): string {
  return STANDARD_CODES[status] ?? STATUS_CODES[status] ?? `Error ${status}`;
}

/** RancherApiError is an error the emulator answers with a Rancher-shaped error body; `code` is the wire code. */
export class RancherApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fieldName: string | undefined;

  constructor(status: number, code?: string, fieldName?: string) {
    super(code ?? standardCode(status));
    this.name = 'RancherApiError';
    this.status = status;
    this.code = code ?? standardCode(status);
    this.fieldName = fieldName;
  }

  /** isValidation tells whether this is a 422 validation error (message and detail null, fieldName set). */
  get isValidation(): boolean {
    return this.fieldName !== undefined;
  }
}

/** validationError builds a 422 validation error with a code and the offending field. */
export function validationError(code: string, fieldName: string): RancherApiError {
  return new RancherApiError(422, code, fieldName);
}

/** errorBody renders an error resource exactly as Cattle's ErrorImpl / ValidationErrorImpl serialise it. */
export function errorBody(error: RancherApiError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: randomUUID(),
    type: 'error',
    links: {},
    actions: {},
    baseType: 'error',
    status: error.status,
    code: error.code,
    message: error.isValidation ? null : error.code,
    detail: null,
  };
  if (error.isValidation) body.fieldName = error.fieldName;
  return body;
}
