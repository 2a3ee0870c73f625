import { renderCollection } from './collection.ts';
import { RancherApiError } from './errors.ts';
import type { FilterField } from './filters.ts';
import { type Account, formatRancherDate } from './model.ts';
import { type ApiContext, json, type Reply } from './reply.ts';

const ACCOUNT_FIELDS: readonly FilterField<Account>[] = [
  { name: 'created', type: 'date', get: (a) => a.created },
  { name: 'kind', type: 'string', get: (a) => a.kind },
  { name: 'name', type: 'string', get: (a) => a.name },
  { name: 'removed', type: 'date', get: () => null },
  { name: 'state', type: 'enum', get: () => 'active' },
  { name: 'uuid', type: 'string', get: (a) => a.uuid },
];

/** renderAccount renders an account (or, as type project, an environment) resource with lowercased links. */
export function renderAccount(account: Account, prefix: string, asProject: boolean): Record<string, unknown> {
  const self = `${prefix}/${asProject ? 'projects' : 'accounts'}/${account.id}`;
  return {
    id: account.id,
    type: asProject ? 'project' : 'account',
    links: { self, credentials: `${self}/credentials` },
    actions: {},
    baseType: 'account',
    name: account.name,
    state: 'active',
    created: formatRancherDate(account.created),
    createdTS: account.created,
    description: null,
    kind: account.kind,
    removed: null,
    transitioning: 'no',
    transitioningMessage: null,
    transitioningProgress: null,
    uuid: account.uuid,
  };
}

function visibleAccounts(ctx: ApiContext, projectsOnly: boolean): Account[] {
  const { policy, directory } = ctx;
  if (projectsOnly) return directory.projects().filter((p) => directory.canReachProject(policy.owner, p));
  // Cattle lists only the policy account itself for non-admins (criteria id = policy account).
  return policy.isAdmin ? directory.all() : [policy.account];
}

/** listAccounts handles `GET /accounts` and `GET /projects`: everything for admins, the visible subset for others. */
export function listAccounts(ctx: ApiContext, projectsOnly: boolean): Reply {
  const body = renderCollection(ctx.req, visibleAccounts(ctx, projectsOnly), {
    resourceType: projectsOnly ? 'project' : 'account',
    fields: ACCOUNT_FIELDS,
    render: (a) => renderAccount(a, ctx.req.prefix, projectsOnly),
  });
  return json(200, body);
}

/** readAccount handles `GET /accounts/{id}` and `GET /projects/{id}`; invisible or unknown ids are 404. */
export function readAccount(ctx: ApiContext, projectsOnly: boolean): Reply {
  const id = ctx.req.id ?? '';
  const account = ctx.directory.get(id);
  const visible = visibleAccounts(ctx, projectsOnly);
  if (!account || !visible.includes(account)) throw new RancherApiError(404);
  return json(200, renderAccount(account, ctx.req.prefix, projectsOnly));
}

/** renderAccountById renders the account behind an id for the apiKey `account` link. */
export function renderAccountById(ctx: ApiContext, id: string): Record<string, unknown> {
  const account = ctx.directory.get(id);
  if (!account) throw new RancherApiError(404);
  return renderAccount(account, ctx.req.prefix, false);
}
