import { RANCHER_VERSIONS, type RancherVersion } from './model.ts';

/** RESOURCE_TYPES are the collection types the emulator serves, by canonical lowercase plural. */
export const RESOURCE_TYPES = ['apikeys', 'accounts', 'projects', 'schemas', 'credentials'] as const;

/** ResourceType is one served collection type. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

// Cattle registers each schema under its id, plural and their lowercase forms; lookup lowercases (reference §1).
const TYPE_ALIASES: Readonly<Record<string, ResourceType>> = {
  apikey: 'apikeys',
  apikeys: 'apikeys',
  account: 'accounts',
  accounts: 'accounts',
  project: 'projects',
  projects: 'projects',
  schema: 'schemas',
  schemas: 'schemas',
  credential: 'credentials',
  credentials: 'credentials',
};

/** RancherRequest is a parsed Rancher API request line (no auth, no body). */
export interface RancherRequest {
  method: string;
  version: RancherVersion;
  /** Environment from a `/projects/{pid}/...` prefix (a sub-context that links keep). */
  projectFromPath: string | undefined;
  /** Canonical type, undefined for the version root; `rawType` keeps what was asked for. */
  type: ResourceType | undefined;
  rawType: string | undefined;
  id: string | undefined;
  link: string | undefined;
  action: string | undefined;
  query: URLSearchParams;
  /** Normalized route name used by request counts and fault rules, e.g. `POST /apikeys/:id?action=remove`. */
  routeName: string;
  /** Lowercased `http://host` (or `https://host`) of the request. */
  base: string;
  /** Lowercased base for emitted links: `http://host/{v}` plus the `/projects/{pid}` sub-context if any. */
  prefix: string;
  /** Lowercased absolute request URL without query, for sort and pagination links. */
  url: string;
  /** True for `/` itself (the list of versions), which has no version segment. */
  bareRoot: boolean;
}

function routeNameOf(
  method: string,
  rawType: string | undefined,
  rest: string[],
  action: string | undefined,
) {
  if (rawType === undefined) return `${method} /`;
  const type = TYPE_ALIASES[rawType.toLowerCase()] ?? rawType.toLowerCase();
  let name = `${method} /${type}`;
  if (rest[1] !== undefined) name += type === 'schemas' ? '/:type' : '/:id';
  if (rest[2] !== undefined) name += `/${rest[2].toLowerCase()}`;
  if (action !== undefined && rest[1] !== undefined) name += `?action=${action}`;
  return name;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** parseRancherPath parses `/` or `/{v}[/projects/{pid}]/{type}[/{id}[/{link}]]`; undefined when no version matches. */
export function parseRancherPath(
  method: string,
  rawUrl: string,
  host: string,
  scheme: 'http' | 'https' = 'http',
): RancherRequest | undefined {
  const url = new URL(rawUrl, 'http://emulator.invalid');
  const parts = url.pathname.split('/');
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const bareRoot = parts.length === 1;
  const version = bareRoot ? 'v1' : RANCHER_VERSIONS.find((v) => v === parts[1]);
  if (!version) return undefined;
  let rest = parts.slice(2).map(safeDecode);
  let projectFromPath: string | undefined;
  if (
    rest[0]?.toLowerCase() === 'projects' &&
    rest.length > 2 &&
    rest[2]?.toLowerCase() !== 'projectmembers'
  ) {
    projectFromPath = rest[1];
    rest = rest.slice(2);
  }
  const rawType = rest[0];
  const action = method === 'POST' ? (url.searchParams.get('action') ?? undefined) : undefined;
  const base = `${scheme}://${host}`.toLowerCase();
  const prefix = `${base}/${version}${projectFromPath ? `/projects/${projectFromPath}` : ''}`.toLowerCase();
  return {
    method,
    version,
    projectFromPath,
    type: rawType === undefined ? undefined : TYPE_ALIASES[rawType.toLowerCase()],
    rawType,
    id: rest[1],
    link: rest[2],
    action,
    query: url.searchParams,
    routeName: routeNameOf(method, rawType, rest, action),
    base,
    prefix,
    url: `${base}${url.pathname}`.toLowerCase(),
    bareRoot,
  };
}
