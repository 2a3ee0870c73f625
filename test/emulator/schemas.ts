import { RancherApiError } from './errors.ts';
import { MODIFIERS_BY_TYPE } from './filters.ts';
import { KEY_STATE_OPTIONS, keyFilterFields } from './render-key.ts';
import { type ApiContext, json, type Reply } from './reply.ts';
import { ACTION_NAMES } from './state-machine.ts';

type Field = Record<string, unknown>;

// Field flags per role from test_authorization.py::test_api_key_auth: c = create, u = update, o = read on create only.
function flagged(type: string, flags: string, extra: Field = {}): Field {
  const field: Field = {
    type,
    create: flags.includes('c'),
    update: flags.includes('u'),
    nullable: true,
    ...extra,
  };
  if (flags.includes('o')) field.readOnCreateOnly = true;
  return field;
}

function apiKeyFields(isAdmin: boolean): Record<string, Field> {
  const fields: Record<string, Field> = {
    accountId: flagged('reference[account]', isAdmin ? 'cr' : 'r'),
    created: flagged('date', 'r'),
    description: flagged('string', 'cru'),
    id: flagged('string', 'r', { nullable: false }),
    kind: flagged('string', 'r'),
    name: flagged('string', 'cru'),
    publicValue: flagged('string', isAdmin ? 'cr' : 'r'),
    removed: flagged('date', 'r'),
    secretValue: flagged('password', isAdmin ? 'cro' : 'ro'),
    state: flagged('enum', 'r', { options: KEY_STATE_OPTIONS }),
    transitioning: flagged('enum', 'r', { options: ['yes', 'no', 'error'] }),
    transitioningMessage: flagged('string', 'r'),
    transitioningProgress: flagged('int', 'r'),
    uuid: flagged('string', 'r'),
  };
  if (isAdmin) {
    fields.data = flagged('map[json]', 'r');
    fields.removeTime = flagged('date', 'r');
  }
  return fields;
}

function apiKeySchema(ctx: ApiContext): Record<string, unknown> {
  const resourceActions: Record<string, { output: string }> = {};
  for (const action of ACTION_NAMES) resourceActions[action] = { output: 'credential' };
  const collectionFilters: Record<string, { modifiers: readonly string[] }> = {};
  for (const f of keyFilterFields(ctx.policy.isAdmin))
    collectionFilters[f.name] = { modifiers: MODIFIERS_BY_TYPE[f.type] };
  return {
    ...envelope(ctx, 'apiKey', 'apikeys'),
    pluralName: 'apiKeys',
    resourceMethods: ['GET', 'PUT', 'DELETE'],
    collectionMethods: ['GET', 'POST'],
    resourceFields: apiKeyFields(ctx.policy.isAdmin),
    resourceActions,
    collectionActions: {},
    collectionFields: {},
    collectionFilters,
    includeableLinks: ['account'],
    parent: 'credential',
    children: [],
  };
}

function envelope(ctx: ApiContext, id: string, plural: string): Record<string, unknown> {
  // Schema links keep the /projects/{pid} sub-context, like every link Cattle emits (reference §1).
  const self = `${ctx.req.prefix}/schemas/${id.toLowerCase()}`;
  return { id, type: 'schema', links: { self, collection: `${ctx.req.prefix}/${plural}` }, actions: {} };
}

function simpleSchema(
  ctx: ApiContext,
  id: string,
  plural: string,
  children: string[],
): Record<string, unknown> {
  return {
    ...envelope(ctx, id, plural.toLowerCase()),
    pluralName: plural,
    resourceMethods: ['GET'],
    collectionMethods: ['GET'],
    resourceFields: {
      id: flagged('string', 'r'),
      name: flagged('string', 'r'),
      kind: flagged('string', 'r'),
    },
    resourceActions: {},
    collectionActions: {},
    collectionFields: {},
    collectionFilters: {},
    includeableLinks: [],
    children,
  };
}

function allSchemas(ctx: ApiContext): Record<string, unknown>[] {
  return [
    simpleSchema(ctx, 'account', 'accounts', ['project']),
    apiKeySchema(ctx),
    simpleSchema(ctx, 'credential', 'credentials', ['apiKey']),
    simpleSchema(ctx, 'project', 'projects', []),
    simpleSchema(ctx, 'schema', 'schemas', []),
  ];
}

/** listSchemas handles `GET /schemas`: the role-dependent schema collection. */
export function listSchemas(ctx: ApiContext): Reply {
  const data = allSchemas(ctx);
  return json(200, {
    type: 'collection',
    resourceType: 'schema',
    links: { self: `${ctx.req.prefix}/schemas` },
    createTypes: {},
    actions: {},
    data,
    sortLinks: {},
    pagination: { first: null, previous: null, next: null, limit: data.length, total: null, partial: false },
    sort: null,
    filters: {},
    createDefaults: {},
  });
}

/** readSchema handles `GET /schemas/{type}`: id or plural in any casing; unknown types are 404. */
export function readSchema(ctx: ApiContext): Reply {
  const wanted = (ctx.req.id ?? '').toLowerCase();
  const schema = allSchemas(ctx).find(
    (s) => String(s.id).toLowerCase() === wanted || String(s.pluralName).toLowerCase() === wanted,
  );
  if (!schema) throw new RancherApiError(404);
  return json(200, schema);
}
