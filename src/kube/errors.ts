import { ApiException } from '@kubernetes/client-node';
import { KubeHttpError } from './http.ts';

/** kubeStatusCode returns the HTTP status of a failed Kubernetes API call, if it has one. */
export function kubeStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === 'object' && err !== null) {
    const code =
      (err as { statusCode?: unknown; code?: unknown }).statusCode ?? (err as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** isNotFound reports a 404 from the apiserver. */
export const isNotFound = (err: unknown): boolean => kubeStatusCode(err) === 404;

/** KubeError is a Kubernetes API failure with the verb and object it concerned; never carries response bodies. */
export class KubeError extends Error {
  readonly code: 'NotFound' | 'Conflict' | 'Forbidden' | 'Invalid' | 'Unavailable';
  readonly status: number | undefined;
  constructor(what: string, err: unknown) {
    const status = kubeStatusCode(err);
    const code =
      status === 404
        ? 'NotFound'
        : status === 409
          ? 'Conflict'
          : status === 403
            ? 'Forbidden'
            : status === 422 || status === 400
              ? 'Invalid'
              : 'Unavailable';
    super(`cannot ${what}: ${status ?? 'no response'} ${code}${reasonOf(err)}`);
    this.name = 'KubeError';
    this.code = code;
    this.status = status;
  }
}

function reasonOf(err: unknown): string {
  if ((err instanceof ApiException || err instanceof KubeHttpError) && typeof err.body === 'string') {
    try {
      const body: unknown = JSON.parse(err.body);
      if (
        typeof body === 'object' &&
        body !== null &&
        'message' in body &&
        typeof body.message === 'string'
      ) {
        return `: ${body.message.slice(0, 300)}`;
      }
    } catch {
      return '';
    }
  }
  if (err instanceof Error && !(err instanceof ApiException) && !(err instanceof KubeHttpError))
    return `: ${err.name}`;
  return '';
}
