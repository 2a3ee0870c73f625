import { invalidResponse, RancherError } from './errors.ts';
import type { ApiVersion, KeyScope } from './types.ts';

const ID_PATTERN = /^[A-Za-z0-9]{1,64}$/;

/** RancherUrls builds every URL the client calls from one base URL and API version. */
export interface RancherUrls {
  /** apiRoot is `<base>/<version>`. */
  readonly apiRoot: string;
  collection(scope?: KeyScope): string;
  key(id: string, scope?: KeyScope): string;
  /** schema is the apiKey schema, in the pinned environment when there is one (identity is asked there). */
  schema(): string;
  /** rebase maps a link Rancher emitted onto our base URL, so credentials only go to the configured origin. */
  rebase(action: string, link: string): string;
}

/**
 * RancherUrlParts is a connection URL split into the server's base URL and what its path names after it: an
 * API version, and an environment for an environment URL (`/v2-beta/projects/1a5`, or its schemas URL
 * `/v2-beta/projects/1a5/schemas` as Rancher's Go client and Terraform provider take it).
 */
export interface RancherUrlParts {
  base: string;
  version?: ApiVersion;
  environment?: string;
}

// <base>[/{v}[/projects/{pid}][/schemas[/{type}]]], the version in any casing, a trailing slash allowed.
const API_PATH = /^(.*?)\/(v1|v2-beta)(?:\/projects\/([A-Za-z0-9]{1,64}))?(?:\/schemas(?:\/[^/]*)?)?$/i;

/**
 * parseRancherUrl validates an http(s) URL and splits it into RancherUrlParts; a path that names no version
 * is all base URL. The environment keeps Rancher's lowercase form.
 */
export function parseRancherUrl(raw: string): RancherUrlParts {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RancherError('Validation', 'cannot configure rancher client: url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RancherError('Validation', 'cannot configure rancher client: url must be http or https');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new RancherError(
      'Validation',
      'cannot configure rancher client: url must not carry credentials or query',
    );
  }
  const path = url.pathname.replace(/\/+$/, '');
  const m = API_PATH.exec(path);
  if (!m) return { base: `${url.origin}${path}` };
  const parts: RancherUrlParts = {
    base: `${url.origin}${m[1] ?? ''}`,
    version: (m[2] ?? '').toLowerCase() === 'v1' ? 'v1' : 'v2-beta',
  };
  if (m[3] !== undefined) parts.environment = m[3].toLowerCase();
  return parts;
}

/** normalizeBaseUrl validates an http(s) base URL and strips a trailing slash and what follows the base URL. */
export function normalizeBaseUrl(raw: string): string {
  return parseRancherUrl(raw).base;
}

function checkedId(kind: string, id: string): string {
  if (!ID_PATTERN.test(id))
    throw new RancherError('Validation', `cannot build rancher url: invalid ${kind} id`);
  return id;
}

/**
 * createRancherUrls returns the URL builder for a normalized base URL and API version. With a `pinned`
 * environment (an environment URL), a call without one of its own is made in that environment, never in the
 * account scope.
 */
export function createRancherUrls(baseUrl: string, version: ApiVersion, pinned?: string): RancherUrls {
  const apiRoot = `${baseUrl}/${version}`;
  const scoped = (scope?: KeyScope): string => {
    const environment = scope?.environment ?? pinned;
    return environment === undefined
      ? apiRoot
      : `${apiRoot}/projects/${checkedId('environment', environment)}`;
  };
  return {
    apiRoot,
    collection: (scope) => `${scoped(scope)}/apikeys`,
    key: (id, scope) => `${scoped(scope)}/apikeys/${checkedId('key', id)}`,
    schema: () => `${scoped()}/schemas/apikey`,
    rebase(action, link) {
      let parsed: URL;
      try {
        parsed = new URL(link, `${apiRoot}/`);
      } catch {
        throw invalidResponse(action, 'link is not a URL');
      }
      // Rancher behind a proxy often emits its own scheme/host; keep only the part from the version segment.
      const marker = `/${version}/`;
      const at = parsed.pathname.toLowerCase().indexOf(marker);
      if (at < 0) throw invalidResponse(action, 'link is outside the API');
      return `${apiRoot}/${parsed.pathname.slice(at + marker.length)}${parsed.search}`;
    },
  };
}
