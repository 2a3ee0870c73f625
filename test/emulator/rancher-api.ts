import type { IncomingHttpHeaders } from 'node:http';
import { listAccounts, readAccount, renderAccountById } from './account-handlers.ts';
import { createKey, deleteKey, readKey, runKeyAction, updateKey } from './apikey-handlers.ts';
import { followKeyLink, listKeys } from './apikey-list.ts';
import { AUTH_REALM, authenticate, resolvePolicy } from './auth.ts';
import type { Directory } from './directory.ts';
import { errorBody, RancherApiError, validationError } from './errors.ts';
import type { KeyStore } from './key-store.ts';
import { RANCHER_VERSIONS } from './model.ts';
import { type ApiContext, json, type Reply } from './reply.ts';
import type { RancherRequest } from './route.ts';
import { listSchemas, readSchema } from './schemas.ts';

/** RancherApiDeps are the stores the Rancher API answers from. */
export interface RancherApiDeps {
  keys: KeyStore;
  directory: Directory;
  now: () => number;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw validationError('InvalidBodyContent', 'body');
  }
}

function versionResource(req: RancherRequest, version: string): Record<string, unknown> {
  const self = `${req.base}/${version}`;
  const links: Record<string, string> = { self };
  for (const type of ['accounts', 'apikeys', 'credentials', 'projects', 'schemas'])
    links[type] = `${self}/${type}`;
  return { id: version, type: 'apiVersion', links, actions: {} };
}

function answerRoot(req: RancherRequest): Reply {
  if (!req.bareRoot) return json(200, versionResource(req, req.version));
  const data = RANCHER_VERSIONS.map((v) => versionResource(req, v));
  return json(200, { type: 'collection', resourceType: 'apiVersion', links: { self: req.base }, data });
}

function route(ctx: ApiContext): Reply {
  const { req } = ctx;
  const { method, type, id, link } = req;
  if (type === undefined) {
    if (req.rawType !== undefined) throw new RancherApiError(404);
    if (method !== 'GET') throw new RancherApiError(405);
    return answerRoot(req);
  }
  const collection = id === undefined;
  if (method === 'GET' && link !== undefined) {
    if (type !== 'apikeys') throw new RancherApiError(404);
    return followKeyLink(ctx, (accountId) => renderAccountById(ctx, accountId));
  }
  if (link !== undefined) throw new RancherApiError(404);
  if (type === 'apikeys') {
    if (method === 'GET') return collection ? listKeys(ctx, 'apiKey') : readKey(ctx);
    if (method === 'POST' && collection) {
      if (req.action !== undefined) throw validationError('InvalidAction', 'action');
      return createKey(ctx);
    }
    if (method === 'POST' && req.action !== undefined) return runKeyAction(ctx, req.action);
    if (method === 'PUT' && !collection) return updateKey(ctx);
    if (method === 'DELETE' && !collection) return deleteKey(ctx);
    throw new RancherApiError(405);
  }
  if (method !== 'GET') throw new RancherApiError(405);
  if (type === 'schemas') return collection ? listSchemas(ctx) : readSchema(ctx);
  if (type === 'credentials') {
    if (!collection) throw new RancherApiError(404);
    return listKeys(ctx, 'credential');
  }
  const projectsOnly = type === 'projects';
  return collection ? listAccounts(ctx, projectsOnly) : readAccount(ctx, projectsOnly);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function failure(error: RancherApiError, headers: IncomingHttpHeaders): Reply {
  const reply: Reply = { status: error.status, body: errorBody(error), headers: {} };
  const noChallenge =
    headerValue(headers, 'x-api-no-challenge')?.toLowerCase() === 'true' ||
    headerValue(headers, 'connection')?.toLowerCase() === 'upgrade';
  if (error.status === 401 && !noChallenge && reply.headers) {
    reply.headers['WWW-Authenticate'] = `Basic realm="${AUTH_REALM}"`;
  }
  return reply;
}

/** answerRancher authenticates, scopes and answers one Rancher API request; every failure becomes an error reply. */
export function answerRancher(
  req: RancherRequest,
  headers: IncomingHttpHeaders,
  bodyText: string,
  deps: RancherApiDeps,
): Reply {
  // Cattle builds the header with the request's URL builder: a /projects/{pid} sub-context stays in it, so a
  // client that loads its schemas from there (go-rancher, the Terraform provider) stays in the environment.
  const schemasHeader = { 'X-API-Schemas': `${req.prefix}/schemas` };
  let reply: Reply;
  try {
    const caller = authenticate(headerValue(headers, 'authorization'), deps.keys, deps.directory);
    const projectId = req.projectFromPath ?? headerValue(headers, 'x-api-project-id');
    const policy = resolvePolicy(caller, projectId, deps.directory, req.query.get('_role') === 'superadmin');
    const ctx: ApiContext = { req, policy, body: undefined, ...deps };
    ctx.body = req.method === 'POST' || req.method === 'PUT' ? parseJson(bodyText) : undefined;
    reply = route(ctx);
    reply.headers = {
      ...reply.headers,
      'X-API-Account-Id': policy.account.id,
      'X-API-Account-Kind': policy.account.kind,
      'X-API-Account-Name': policy.account.name,
      'X-API-User-Id': policy.owner.id,
    };
  } catch (error) {
    if (!(error instanceof RancherApiError)) throw error;
    reply = failure(error, headers);
  }
  reply.headers = { ...reply.headers, ...schemasHeader };
  return reply;
}
