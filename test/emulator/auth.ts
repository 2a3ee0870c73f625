import type { Directory } from './directory.ts';
import { RancherApiError } from './errors.ts';
import type { KeyStore } from './key-store.ts';
import { verifySecret } from './keygen.ts';
import type { Account, KeyRecord } from './model.ts';

/** AUTH_REALM is the realm of the Basic challenge Rancher sends with a 401 (`api.auth.realm`). */
export const AUTH_REALM = 'Enter API access key and secret key as username and password';

/** Caller is an authenticated key and the account that owns it. */
export interface Caller {
  key: KeyRecord;
  owner: Account;
}

/** Policy is who a request acts as: the caller, the policy account (an environment in project context) and its powers. */
export interface Policy extends Caller {
  account: Account;
  isAdmin: boolean;
  /** An admin asking `_role=superadmin`: lists span every account and stored secrets show. */
  superadmin: boolean;
}

function parseBasic(header: string | undefined): { access: string; secret: string } | undefined {
  if (!header) return undefined;
  const match = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { access: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** authenticate resolves HTTP Basic credentials to an active key and its owner, or throws 401 (409 MultipleKeys on duplicates). */
export function authenticate(header: string | undefined, keys: KeyStore, directory: Directory): Caller {
  const credentials = parseBasic(header);
  if (!credentials) throw new RancherApiError(401);
  const matches: KeyRecord[] = [];
  for (const key of keys.withPublicValue(credentials.access)) {
    // AuthDaoImpl: exact publicValue, state active, then the secret compared with the stored hash.
    if (key.state === 'active' && key.publicValue === credentials.access) matches.push(key);
  }
  if (matches.length > 1) throw new RancherApiError(409, 'MultipleKeys');
  const key = matches[0];
  if (!key || !verifySecret(key.secretHash, credentials.secret)) throw new RancherApiError(401);
  const owner = directory.get(key.accountId);
  if (!owner) throw new RancherApiError(401);
  return { key, owner };
}

/** resolvePolicy applies the requested environment (path or X-API-Project-Id); an unreachable or unknown one is 403. */
export function resolvePolicy(
  caller: Caller,
  projectId: string | undefined,
  directory: Directory,
  superadminRequested: boolean,
): Policy {
  const isAdmin = caller.owner.kind === 'admin';
  const superadmin = isAdmin && superadminRequested;
  if (projectId === undefined) return { ...caller, account: caller.owner, isAdmin, superadmin };
  const project = directory.get(projectId);
  if (project?.kind !== 'project' || !directory.canReachProject(caller.owner, project)) {
    throw new RancherApiError(403);
  }
  return { ...caller, account: project, isAdmin, superadmin };
}
