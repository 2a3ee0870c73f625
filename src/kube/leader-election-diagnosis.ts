import { kubeStatusCode } from './errors.ts';

/** LeaseProblem says why the Lease cannot be acquired and what the admin can do about it. */
export type LeaseProblem = { reason: string; remedy: string };

const OFF = 'or run without leader election (--leader-elect=false, the default) if only one replica runs';

/**
 * diagnoseLeaseError turns a failed Lease read/create/replace into a reason and a remedy an admin can act on,
 * or undefined for a 409 (another replica wrote the Lease first: normal, the next attempt re-reads it). It
 * never quotes a response body, so nothing the apiserver echoes back can reach a log line or /readyz.
 */
export function diagnoseLeaseError(err: unknown, namespace: string): LeaseProblem | undefined {
  const status = kubeStatusCode(err);
  switch (status) {
    case 409:
      return undefined;
    case 404:
      return {
        reason: `namespace "${namespace}" does not exist (404)`,
        remedy: `create it (kubectl create namespace ${namespace}), point --leader-election-namespace / LEADER_ELECTION_NAMESPACE at an existing namespace, ${OFF}`,
      };
    case 403:
      return {
        reason: `forbidden (403): the operator's identity may not get, create or update leases in namespace "${namespace}"`,
        remedy: `grant get, create and update on leases.coordination.k8s.io in "${namespace}" (deploy/base/leader-election-role.yaml), ${OFF}`,
      };
    case 401:
      return {
        reason: 'unauthorized (401): the apiserver does not accept the operator credentials',
        remedy: 'check the kubeconfig (KUBECONFIG) or the ServiceAccount token',
      };
    case undefined:
      return {
        reason: `no answer from the apiserver (${transportCode(err)})`,
        remedy: 'check the apiserver address in the kubeconfig and the network between the operator and it',
      };
    default:
      return {
        reason: `the apiserver answered ${status}`,
        remedy: 'check the apiserver health; the operator keeps retrying',
      };
  }
}

// transportCode names a transport failure by its code (ECONNREFUSED, ENOTFOUND) or error name, never its text.
function transportCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown; message?: unknown };
    for (const code of [e.code, e.cause?.code]) if (typeof code === 'string' && code !== '') return code;
    if (e.message === 'lease request timed out') return 'timed out';
    if (typeof e.name === 'string' && e.name !== '' && e.name !== 'Error') return e.name;
  }
  return 'connection failed';
}

/** LeaseProblemReporter logs lease problems at warn level, rate-limited, and remembers the current one. */
export type LeaseProblemReporter = {
  /** failed records a failed attempt: a problem is warned at once, then at most once per interval. */
  failed(problem: LeaseProblem): void;
  /** cleared records that the last attempt reached the Lease (acquired, or held by another replica). */
  cleared(): void;
  /** current is the problem of the last attempt, or undefined when it reached the Lease. */
  current(): LeaseProblem | undefined;
};

/**
 * createLeaseProblemReporter warns about the first failed attempt, about a change of reason at once, and
 * otherwise once per `intervalMs` with the number of attempts that failed since the last warning. When the
 * Lease is reached again after a warning, it says so at info level.
 */
export function createLeaseProblemReporter(opts: {
  lease: string;
  intervalMs: number;
  now(): number;
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}): LeaseProblemReporter {
  let problem: LeaseProblem | undefined;
  let warnedAt: number | undefined;
  let warnedReason = '';
  let failures = 0;
  let unreported = 0;
  return {
    failed(p) {
      problem = p;
      failures++;
      unreported++;
      const now = opts.now();
      if (warnedAt !== undefined && p.reason === warnedReason && now - warnedAt < opts.intervalMs) return;
      opts.warn(
        { lease: opts.lease, reason: p.reason, remedy: p.remedy, failedAttempts: unreported },
        `cannot acquire leader lease ${opts.lease}: ${p.reason}; ${p.remedy}`,
      );
      warnedAt = now;
      warnedReason = p.reason;
      unreported = 0;
    },
    cleared() {
      if (problem !== undefined && warnedAt !== undefined) {
        opts.info({ lease: opts.lease, failedAttempts: failures }, 'leader lease reachable again');
      }
      problem = undefined;
      warnedAt = undefined;
      warnedReason = '';
      failures = 0;
      unreported = 0;
    },
    current: () => problem,
  };
}
