/** KEY_STATES lists every state a Rancher 1.x credential can be in (reference §3). */
export const KEY_STATES = [
  'requested',
  'registering',
  'activating',
  'active',
  'deactivating',
  'inactive',
  'updating-active',
  'updating-inactive',
  'removing',
  'removed',
  'purging',
  'purged',
] as const;

/** KeyState is one Rancher credential state. */
export type KeyState = (typeof KEY_STATES)[number];

/** AccountKind is the kind of a Rancher account: a person (admin/user) or an environment (project). */
export type AccountKind = 'admin' | 'user' | 'project';

/** Account is an emulated Rancher account or environment (projects are accounts of kind project). */
export interface Account {
  dbId: number;
  id: string;
  uuid: string;
  name: string;
  kind: AccountKind;
  created: number;
  /** Projects an account key may reach through /projects/{pid}; admins reach all of them. */
  memberOf: readonly string[];
}

/** KeyRecord is the emulator's row for one apiKey; secretHash is `SHA256:<salt>:<hash>` or null. */
export interface KeyRecord {
  dbId: number;
  id: string;
  uuid: string;
  accountId: string;
  name: string | null;
  description: string | null;
  state: KeyState;
  publicValue: string | null;
  secretHash: string | null;
  created: number;
  removed: number | null;
  removeTime: number | null;
  timer: NodeJS.Timeout | undefined;
}

/** InspectedKey is the secret-free view of a key returned by the inspection API. */
export interface InspectedKey {
  id: string;
  accountId: string;
  name: string | null;
  description: string | null;
  state: KeyState;
  publicValue: string | null;
  created: string;
  removed: string | null;
  kind: 'apiKey';
}

/** RANCHER_VERSIONS are the API versions the emulator serves. */
export const RANCHER_VERSIONS = ['v1', 'v2-beta'] as const;

/** RancherVersion is one served API version. */
export type RancherVersion = (typeof RANCHER_VERSIONS)[number];

/** formatRancherDate renders epoch milliseconds as Rancher's `yyyy-MM-dd'T'HH:mm:ss'Z'` (GMT). */
export function formatRancherDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** parseRancherId extracts the numeric database id from `1<lowercase letters><digits>` (TypeIdFormatter), or undefined. */
export function parseRancherId(id: string): number | undefined {
  const match = /^1[a-z]+(\d+)$/.exec(id);
  if (!match?.[1]) return undefined;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** inspectKey returns the secret-free inspection view of a key record. */
export function inspectKey(key: KeyRecord): InspectedKey {
  return {
    id: key.id,
    accountId: key.accountId,
    name: key.name,
    description: key.description,
    state: key.state,
    publicValue: key.publicValue,
    created: formatRancherDate(key.created),
    removed: key.removed === null ? null : formatRancherDate(key.removed),
    kind: 'apiKey',
  };
}
