import type { Policy } from './auth.ts';
import type { FilterField } from './filters.ts';
import { formatRancherDate, KEY_STATES, type KeyRecord } from './model.ts';
import type { RancherRequest } from './route.ts';
import { actionsFor, isTransitioning } from './state-machine.ts';

/** SecretView picks what `secretValue` shows: the clear secret (create), the stored hash (POST actions, superadmin), or null. */
export type SecretView = { kind: 'clear'; value: string | null } | { kind: 'stored' } | { kind: 'null' };

const COMMON_KEY_FIELDS: readonly FilterField<KeyRecord>[] = [
  { name: 'accountId', type: 'reference', get: (k) => k.accountId },
  { name: 'created', type: 'date', get: (k) => k.created },
  { name: 'description', type: 'string', get: (k) => k.description },
  { name: 'kind', type: 'string', get: () => 'apiKey' },
  { name: 'name', type: 'string', get: (k) => k.name },
  { name: 'publicValue', type: 'string', get: (k) => k.publicValue },
  { name: 'removed', type: 'date', get: (k) => k.removed },
  { name: 'state', type: 'enum', get: (k) => k.state },
  { name: 'uuid', type: 'string', get: (k) => k.uuid },
];

const REMOVE_TIME_FIELD: FilterField<KeyRecord> = {
  name: 'removeTime',
  type: 'date',
  get: (k) => k.removeTime,
};

const ADMIN_KEY_FIELDS: readonly FilterField<KeyRecord>[] = [...COMMON_KEY_FIELDS, REMOVE_TIME_FIELD].sort(
  (a, b) => a.name.localeCompare(b.name),
);

/** keyFilterFields lists the apiKey collection filters in the caller's schema (admins also filter on removeTime). */
export function keyFilterFields(isAdmin: boolean): readonly FilterField<KeyRecord>[] {
  return isAdmin ? ADMIN_KEY_FIELDS : COMMON_KEY_FIELDS;
}

/** KEY_STATE_OPTIONS is the sorted enum of credential states the schema advertises. */
export const KEY_STATE_OPTIONS = [...KEY_STATES].sort();

function dateFields(name: string, ms: number | null): Record<string, unknown> {
  return ms === null ? { [name]: null } : { [name]: formatRancherDate(ms), [`${name}TS`]: ms };
}

function secretOf(key: KeyRecord, view: SecretView): string | null {
  if (view.kind === 'clear') return view.value;
  if (view.kind === 'stored') return key.secretHash;
  return null;
}

/** renderKey renders an apiKey resource: lowercased links and action links, name/state first, the rest alphabetical. */
export function renderKey(
  key: KeyRecord,
  req: RancherRequest,
  policy: Policy,
  view: SecretView,
): Record<string, unknown> {
  const self = `${req.prefix}/apikeys/${key.id}`;
  const actions: Record<string, string> = {};
  for (const action of actionsFor(key.state)) actions[action] = `${self}/?action=${action}`;
  const transitioning = isTransitioning(key.state);
  return {
    id: key.id,
    type: 'apiKey',
    links: { self, account: `${self}/account`, certificate: `${self}/certificate` },
    actions,
    baseType: 'credential',
    name: key.name,
    state: key.state,
    accountId: key.accountId,
    ...dateFields('created', key.created),
    ...(policy.isAdmin ? { data: {} } : {}),
    description: key.description,
    kind: 'apiKey',
    publicValue: key.publicValue,
    ...(policy.isAdmin ? dateFields('removeTime', key.removeTime) : {}),
    ...dateFields('removed', key.removed),
    secretValue: secretOf(key, view),
    transitioning: transitioning ? 'yes' : 'no',
    transitioningMessage: transitioning ? 'In Progress' : null,
    transitioningProgress: null,
    uuid: key.uuid,
  };
}
