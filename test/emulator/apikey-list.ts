import { findVisibleKey } from './apikey-handlers.ts';
import { renderCollection } from './collection.ts';
import { RancherApiError } from './errors.ts';
import type { KeyRecord } from './model.ts';
import { keyFilterFields, renderKey } from './render-key.ts';
import { type ApiContext, json, type Reply } from './reply.ts';

// An empty zip archive (end-of-central-directory record only): the certificate link answers a zip.
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

function* scoped(ctx: ApiContext, candidates: Iterable<KeyRecord>): Iterable<KeyRecord> {
  const all = ctx.policy.superadmin;
  const showRemoved = ctx.req.query.has('_removed');
  for (const key of candidates) {
    if (!all && key.accountId !== ctx.policy.account.id) continue;
    // Default criteria: removed keys never show in lists unless the `_removed` option is given.
    if (!showRemoved && key.removed !== null) continue;
    yield key;
  }
}

function candidatesOf(ctx: ApiContext): Iterable<KeyRecord> {
  const publicValue = ctx.req.query.get('publicValue');
  // Fast paths by index; the filters still run on the candidates, so results are identical to a scan.
  if (publicValue !== null) return ctx.keys.withPublicValue(publicValue);
  if (ctx.policy.superadmin) return ctx.keys.all();
  return ctx.keys.ofAccount(ctx.policy.account.id);
}

/** listKeys handles `GET /apikeys` (and `/credentials`): the policy account's non-removed keys, filtered, sorted, paged. */
export function listKeys(ctx: ApiContext, resourceType: 'apiKey' | 'credential'): Reply {
  const view = ctx.policy.superadmin ? ({ kind: 'stored' } as const) : ({ kind: 'null' } as const);
  const body = renderCollection(ctx.req, scoped(ctx, candidatesOf(ctx)), {
    resourceType,
    fields: keyFilterFields(ctx.policy.isAdmin),
    render: (key) => renderKey(key, ctx.req, ctx.policy, view),
  });
  return json(200, body);
}

/** followKeyLink handles `GET /apikeys/{id}/{link}`: `account` returns the owner, `certificate` a zip. */
export function followKeyLink(
  ctx: ApiContext,
  renderAccount: (id: string) => Record<string, unknown>,
): Reply {
  const key = findVisibleKey(ctx);
  const link = ctx.req.link?.toLowerCase();
  if (link === 'account') return json(200, renderAccount(key.accountId));
  if (link === 'certificate')
    return { status: 200, body: null, raw: { contentType: 'application/zip', data: EMPTY_ZIP } };
  throw new RancherApiError(404);
}
