import { invalidResponse, RancherError } from './errors.ts';
import type { ApiVersion, KeyScope } from './types.ts';

const ID_PATTERN = /^[A-Za-z0-9]{1,64}$/;

/** RancherUrls builds every URL the client calls from one base URL and API version. */
export interface RancherUrls {
  /** apiRoot is `<base>/<version>`. */
  readonly apiRoot: string;
  collection(scope?: KeyScope): string;
  key(id: string, scope?: KeyScope): string;
  schema(): string;
  /** rebase maps a link Rancher emitted onto our base URL, so credentials only go to the configured origin. */
  rebase(action: string, link: string): string;
}

/** normalizeBaseUrl validates an http(s) base URL and strips a trailing slash or version segment. */
export function normalizeBaseUrl(raw: string): string {
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
  const path = url.pathname.replace(/\/+$/, '').replace(/\/(v1|v2-beta)$/i, '');
  return `${url.origin}${path}`;
}

function checkedId(kind: string, id: string): string {
  if (!ID_PATTERN.test(id))
    throw new RancherError('Validation', `cannot build rancher url: invalid ${kind} id`);
  return id;
}

/** createRancherUrls returns the URL builder for a normalized base URL and API version. */
export function createRancherUrls(baseUrl: string, version: ApiVersion): RancherUrls {
  const apiRoot = `${baseUrl}/${version}`;
  const scoped = (scope?: KeyScope): string =>
    scope?.environment === undefined
      ? apiRoot
      : `${apiRoot}/projects/${checkedId('environment', scope.environment)}`;
  return {
    apiRoot,
    collection: (scope) => `${scoped(scope)}/apikeys`,
    key: (id, scope) => `${scoped(scope)}/apikeys/${checkedId('key', id)}`,
    schema: () => `${apiRoot}/schemas/apikey`,
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
