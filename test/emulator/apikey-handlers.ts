import { z } from 'zod';
import { RancherApiError, validationError } from './errors.ts';
import { generatePublicValue, generateSecretValue, hashSecret } from './keygen.ts';
import { type KeyRecord, parseRancherId } from './model.ts';
import { renderKey, type SecretView } from './render-key.ts';
import { type ApiContext, json, type Reply } from './reply.ts';
import { canStart, isActionName, isTransitioning } from './state-machine.ts';

const nullableString = z.union([z.string(), z.null()]).optional();

// Unknown fields are silently dropped, as ValidationHandler does; only typed fields are checked.
const CreateBodySchema = z.looseObject({
  name: nullableString,
  description: nullableString,
  publicValue: nullableString,
  secretValue: nullableString,
  accountId: nullableString,
});

const UpdateBodySchema = z.looseObject({ name: nullableString, description: nullableString });

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const field = parsed.error.issues[0]?.path[0];
  throw typeof field === 'string'
    ? validationError('InvalidFormat', field)
    : validationError('InvalidBodyContent', 'body');
}

function storedView(ctx: ApiContext): SecretView {
  return ctx.policy.superadmin ? { kind: 'stored' } : { kind: 'null' };
}

/** findVisibleKey returns the key with the requested id if the caller may see it; otherwise 404 (never 403). */
export function findVisibleKey(ctx: ApiContext): KeyRecord {
  const dbId = ctx.req.id === undefined ? undefined : parseRancherId(ctx.req.id);
  const key = dbId === undefined ? undefined : ctx.keys.get(dbId);
  // Admins are authorized for all accounts on by-id lookups; everyone else sees only the policy account's keys.
  if (!key || (!ctx.policy.isAdmin && key.accountId !== ctx.policy.account.id))
    throw new RancherApiError(404);
  return key;
}

function ownerFor(ctx: ApiContext, requested: string | null | undefined): string {
  if (!ctx.policy.isAdmin || requested === undefined || requested === null) return ctx.policy.account.id;
  const account = ctx.directory.get(requested);
  if (!account) throw validationError('InvalidReference', 'accountId');
  return account.id;
}

/** createKey handles `POST /apikeys`: 201 `registering` with the clear secret; admins may supply values and accountId. */
export function createKey(ctx: ApiContext): Reply {
  const body = parseBody(CreateBodySchema, ctx.body);
  const accountId = ownerFor(ctx, body.accountId);
  const supplied = ctx.policy.isAdmin && typeof body.publicValue === 'string' && body.publicValue !== '';
  let publicValue: string;
  let secret: string | null;
  if (supplied && typeof body.publicValue === 'string') {
    if (ctx.keys.hasLivePublicValue(body.publicValue)) throw validationError('NotUnique', 'publicValue');
    publicValue = body.publicValue;
    secret = body.secretValue ?? null;
  } else {
    publicValue = generatePublicValue();
    secret = generateSecretValue();
  }
  const key = ctx.keys.insert(
    {
      accountId,
      name: body.name ?? null,
      description: body.description ?? null,
      publicValue,
      secretHash: secret === null ? null : hashSecret(secret),
    },
    'requested',
  );
  ctx.keys.register(key);
  return json(201, renderKey(key, ctx.req, ctx.policy, { kind: 'clear', value: secret }));
}

/** readKey handles `GET /apikeys/{id}`: removed and purged keys stay readable; secretValue is null. */
export function readKey(ctx: ApiContext): Reply {
  return json(200, renderKey(findVisibleKey(ctx), ctx.req, ctx.policy, storedView(ctx)));
}

/** updateKey handles `PUT /apikeys/{id}`: sets name and description in place, state unchanged, 200. */
export function updateKey(ctx: ApiContext): Reply {
  const key = findVisibleKey(ctx);
  const body = parseBody(UpdateBodySchema, ctx.body);
  if (body.name !== undefined) key.name = body.name;
  if (body.description !== undefined) key.description = body.description;
  return json(200, renderKey(key, ctx.req, ctx.policy, storedView(ctx)));
}

/** deleteKey handles `DELETE /apikeys/{id}`: schedules remove (200), no-op when removed, 409 mid-process, else 405. */
export function deleteKey(ctx: ApiContext): Reply {
  const key = findVisibleKey(ctx);
  if (canStart('remove', key.state)) ctx.keys.start(key, 'remove');
  else if (key.state !== 'removed') throw new RancherApiError(isTransitioning(key.state) ? 409 : 405);
  return json(200, renderKey(key, ctx.req, ctx.policy, storedView(ctx)));
}

/** runKeyAction handles `POST /apikeys/{id}?action=x`: 202 in the transitioning state, 422 InvalidAction/ActionNotAvailable. */
export function runKeyAction(ctx: ApiContext, action: string): Reply {
  if (!isActionName(action)) throw validationError('InvalidAction', 'action');
  const key = findVisibleKey(ctx);
  if (!canStart(action, key.state)) throw validationError('ActionNotAvailable', 'action');
  ctx.keys.start(key, action);
  // Action calls are POSTs, so read-on-create-only fields are not nulled: the stored hash shows (reference §4).
  return json(202, renderKey(key, ctx.req, ctx.policy, { kind: 'stored' }));
}
