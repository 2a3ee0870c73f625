import type { V1Secret } from '@kubernetes/client-node';
import { CREDENTIALS } from '../../api/names.ts';
import { parseRancherUrl, type RancherUrlParts } from '../../rancher/index.ts';

/** CredentialsOptIn says whether an unlabelled Opaque Secret may hold connection credentials. */
export type CredentialsOptIn = 'optional' | 'required';

/** Refusal is why a connection may not be used: a terminal condition reason and a message without secrets. */
export interface Refusal {
  reason: string;
  message: string;
}

const SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';
const SERVICE_ACCOUNT_ANNOTATION = 'kubernetes.io/service-account.name';

/** parseHttpUrl parses an http(s) URL without user info, or returns undefined. */
export function parseHttpUrl(text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return url;
}

/** urlRefusal returns InvalidURL for a URL that does not parse, is not http(s), or carries user info. */
export function urlRefusal(url: string, what: string): Refusal | undefined {
  if (parseHttpUrl(url) !== undefined) return undefined;
  return {
    reason: 'InvalidURL',
    message:
      `${what} has an invalid spec.url: it must be an http(s) URL without user info (user:password@); ` +
      'the credentials belong in the Secret named by spec.credentialsSecretRef',
  };
}

/**
 * urlAllowed is true when the allow-list is empty or the URL lies under one of its prefixes: same scheme,
 * host and port, and a path that starts at a segment boundary (https://r.example.com/a allows /a and /a/b,
 * never /ab or https://r.example.com.evil.net).
 */
export function urlAllowed(url: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return true;
  const target = parseHttpUrl(url);
  if (!target) return false;
  const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);
  return prefixes.some((text) => {
    const prefix = parseHttpUrl(text);
    return (
      prefix !== undefined &&
      prefix.protocol === target.protocol &&
      prefix.host === target.host &&
      withSlash(target.pathname).startsWith(withSlash(prefix.pathname))
    );
  });
}

/** urlNotAllowed is the refusal of a namespaced connection whose URL is outside ALLOWED_RANCHER_URLS. */
export function urlNotAllowed(what: string, prefixes: readonly string[]): Refusal {
  return {
    reason: 'URLNotAllowed',
    message:
      `${what} points spec.url outside the Rancher URLs the operator allows (${prefixes.join(', ')}); ` +
      'use one of them, or ask the cluster admin to extend ALLOWED_RANCHER_URLS',
  };
}

/** urlPartsOf splits a connection URL (RancherUrlParts), or undefined when it is not one (urlRefusal says why). */
export function urlPartsOf(url: string): RancherUrlParts | undefined {
  try {
    return parseRancherUrl(url);
  } catch {
    return undefined;
  }
}

/**
 * urlScopeRefusal checks what the path of spec.url names against the rest: its API version must be
 * spec.version, and an environment URL (…/projects/1a5[/schemas]) serves only ApiKeys of that environment or
 * without one (they are made in it, never in the account scope).
 */
export function urlScopeRefusal(
  url: string,
  version: string,
  environment: string | undefined,
  what: string,
): Refusal | undefined {
  const parts = urlPartsOf(url);
  if (parts?.version !== undefined && parts.version !== version) {
    return {
      reason: 'VersionMismatch',
      message: `${what} has a spec.url in API version ${parts.version} but spec.version ${version}: set spec.version: ${parts.version}`,
    };
  }
  if (parts?.environment === undefined || environment === undefined || environment === parts.environment)
    return undefined;
  return {
    reason: 'EnvironmentMismatch',
    message:
      `${what} points spec.url at environment ${parts.environment}, so it cannot serve an ApiKey for ` +
      `environment ${environment}: drop spec.environment, set it to ${parts.environment}, or use another connection`,
  };
}

/** EnvironmentPolicy is the part of a ClusterRancherConnection spec that says which keys it may mint. */
export interface EnvironmentPolicy {
  allowedEnvironments?: readonly string[];
  allowAccountKeys: boolean;
}

/**
 * environmentRefusal checks an ApiKey's environment against a cluster connection's policy: an environment
 * key needs its id (or "*") in allowedEnvironments, an account key (no environment) needs allowAccountKeys.
 */
export function environmentRefusal(
  policy: EnvironmentPolicy,
  environment: string | undefined,
  what: string,
): Refusal | undefined {
  if (environment === undefined) {
    if (policy.allowAccountKeys) return undefined;
    return {
      reason: 'AccountKeysNotAllowed',
      message:
        `${what} does not allow account keys: set spec.allowAccountKeys: true on it, ` +
        'or set spec.environment on the ApiKey to an environment listed in its spec.allowedEnvironments',
    };
  }
  const allowed = policy.allowedEnvironments ?? [];
  if (allowed.includes('*') || allowed.includes(environment)) return undefined;
  return {
    reason: 'EnvironmentNotAllowed',
    message: `${what} does not allow environment ${environment}: add it to spec.allowedEnvironments`,
  };
}

/**
 * credentialsSecretRefusal decides whether a Secret may hold Rancher credentials. ServiceAccount tokens are
 * always refused, as is any type but Opaque and rancher.keyops.dev/credentials; the label or that type opts
 * a Secret in; an unlabelled Opaque Secret is accepted only while the opt-in is optional.
 */
export function credentialsSecretRefusal(
  secret: V1Secret,
  optIn: CredentialsOptIn,
  where: string,
): Refusal | undefined {
  const type = secret.type || 'Opaque';
  const labelled = secret.metadata?.labels?.[CREDENTIALS.label] === CREDENTIALS.labelValue;
  const accepted =
    `accepted: a Secret of type ${CREDENTIALS.secretType}, or of type Opaque labelled ` +
    `${CREDENTIALS.label}: "${CREDENTIALS.labelValue}"` +
    (optIn === 'optional' ? ' (an unlabelled Opaque Secret is accepted too)' : '');
  const refuse = (why: string): Refusal => ({
    reason: 'CredentialsSecretRefused',
    message: `${where} may not hold Rancher credentials: ${why}; ${accepted}`,
  });
  if (
    type === SERVICE_ACCOUNT_TOKEN ||
    secret.metadata?.annotations?.[SERVICE_ACCOUNT_ANNOTATION] !== undefined
  )
    return refuse('it is a ServiceAccount token Secret');
  if (type === CREDENTIALS.secretType) return undefined;
  if (type !== 'Opaque') return refuse(`its type is ${type}`);
  if (labelled || optIn === 'optional') return undefined;
  return refuse(`it does not opt in (the operator runs with CREDENTIALS_OPT_IN=required)`);
}
