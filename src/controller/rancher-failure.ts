import { RancherError } from '../rancher/index.ts';

/** RancherFailure is a Rancher error turned into a condition reason and a message without secrets. */
export interface RancherFailure {
  reason: string;
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * describeRancherFailure maps a failed Rancher call to a stable condition reason: wrong credentials,
 * refusals and answers beyond the client's limits are terminal, outages and timeouts are retryable.
 */
export function describeRancherFailure(err: unknown, what: string): RancherFailure {
  if (!(err instanceof RancherError)) {
    return {
      reason: 'RancherUnavailable',
      code: 'Unknown',
      message: `cannot use ${what}: unexpected error`,
      retryable: true,
    };
  }
  const detail = `${err.code}${err.status ? ` (HTTP ${err.status})` : ''}`;
  switch (err.code) {
    case 'Unauthorized':
      return {
        reason: 'RancherUnauthorized',
        code: err.code,
        message: `${what} rejected the credentials: ${detail}`,
        retryable: false,
      };
    case 'Forbidden':
      return {
        reason: 'RancherForbidden',
        code: err.code,
        message: `${what} refused access: ${detail}`,
        retryable: false,
      };
    case 'Transport':
      // The transport builds its messages from error codes only (never a URL or body): an untrusted
      // certificate or a failing proxy is named, with the remedy.
      return {
        reason: 'RancherUnavailable',
        code: err.code,
        message: `cannot reach ${what}: ${err.message} (${err.code})`,
        retryable: true,
      };
    case 'Timeout':
    case 'ServerError':
      return {
        reason: 'RancherUnavailable',
        code: err.code,
        message: `cannot reach ${what}: ${detail}`,
        retryable: true,
      };
    case 'LimitExceeded':
      // The message names the limit that was crossed (keys, pages, bytes); it never holds a URL or body.
      return {
        reason: 'RancherResponseTooLarge',
        code: err.code,
        message: `${what} answered more than the operator accepts: ${err.message} (${err.code})`,
        retryable: false,
      };
    default:
      return {
        reason: 'RancherError',
        code: err.code,
        message: `${what} failed: ${detail}`,
        retryable: err.code === 'Conflict',
      };
  }
}
