// In-memory fakes of the controllers' ports (Secret store, resource writer, event recorder, Rancher client) for
// unit tests. Excluded from the build; production code may not import this file (npm run lint checks it).
import type { V1Secret } from '@kubernetes/client-node';
import type { EventRecorder, EventTarget } from '../kube/events.ts';
import type { ResourceWriter } from '../kube/resources.ts';
import type { SecretStore } from '../kube/secrets.ts';
import {
  type CreatedRancherApiKey,
  type CreateKeyInput,
  type KeyScope,
  type RancherApiKey,
  type RancherClient,
  type RancherCredentials,
  RancherError,
  type RancherIdentity,
  type RancherKeyState,
} from '../rancher/index.ts';

/** Write is one call that changed something, in call order (names only: never a value). */
export type Write =
  | { op: 'secret.create' | 'secret.replace' | 'secret.delete'; name: string }
  | { op: 'finalizers'; name: string; finalizers: string[] }
  | { op: 'status'; name: string; status: Record<string, unknown> }
  | { op: 'event'; type: 'Normal' | 'Warning'; reason: string; note: string }
  | { op: `rancher.${string}`; id?: string };

/** Journal is the shared, ordered record of every write the fakes saw, so tests can assert cross-port order. */
export class Journal {
  readonly writes: Write[] = [];
  ops(): string[] {
    return this.writes.map((w) => ('reason' in w ? `event:${w.reason}` : w.op));
  }
}

const conflict = (what: string) => Object.assign(new Error(`${what}: 409 Conflict`), { statusCode: 409 });

/** FakeSecrets is a SecretStore over a Map, with uids, resourceVersions and uid-guarded deletes. */
export class FakeSecrets implements SecretStore {
  readonly objects = new Map<string, V1Secret>();
  reads: string[] = [];
  /** fail, when set, makes the next matching write throw (then clears itself). */
  fail: { op: 'create' | 'replace' | 'delete'; error: Error } | undefined;
  private seq = 0;

  readonly journal: Journal;
  constructor(journal = new Journal()) {
    this.journal = journal;
  }

  /** put stores a Secret as if someone else (a tenant, an earlier pass) had written it. */
  put(secret: V1Secret): V1Secret {
    const stored = this.stamp(structuredClone(secret));
    this.objects.set(this.key(stored), stored);
    return structuredClone(stored);
  }

  get(namespace: string, name: string): V1Secret | undefined {
    const s = this.objects.get(`${namespace}/${name}`);
    return s ? structuredClone(s) : undefined;
  }

  async read(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.reads.push(`${namespace}/${name}`);
    return this.get(namespace, name);
  }

  async create(secret: V1Secret): Promise<V1Secret> {
    this.maybeFail('create');
    const key = this.key(secret);
    if (this.objects.has(key)) throw conflict(`create Secret ${key}`);
    this.journal.writes.push({ op: 'secret.create', name: secret.metadata?.name ?? '' });
    return this.put(secret);
  }

  async replace(secret: V1Secret): Promise<V1Secret> {
    this.maybeFail('replace');
    const key = this.key(secret);
    const current = this.objects.get(key);
    if (!current) throw Object.assign(new Error(`replace Secret ${key}: 404`), { statusCode: 404 });
    const rv = secret.metadata?.resourceVersion;
    if (rv !== undefined && rv !== current.metadata?.resourceVersion) throw conflict(`replace Secret ${key}`);
    this.journal.writes.push({ op: 'secret.replace', name: secret.metadata?.name ?? '' });
    const next = structuredClone(secret);
    next.metadata = { ...next.metadata, uid: current.metadata?.uid };
    return this.put(next);
  }

  async delete(namespace: string, name: string, uid: string): Promise<void> {
    this.maybeFail('delete');
    const current = this.objects.get(`${namespace}/${name}`);
    if (!current) return;
    if (current.metadata?.uid !== uid) throw conflict(`delete Secret ${namespace}/${name}`);
    this.journal.writes.push({ op: 'secret.delete', name });
    this.objects.delete(`${namespace}/${name}`);
  }

  private key(s: V1Secret): string {
    return `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
  }

  private stamp(s: V1Secret): V1Secret {
    this.seq++;
    s.metadata = {
      ...s.metadata,
      uid: s.metadata?.uid ?? `secret-uid-${this.seq}`,
      resourceVersion: String(this.seq),
    };
    return s;
  }

  private maybeFail(op: 'create' | 'replace' | 'delete'): void {
    if (this.fail?.op !== op) return;
    const { error } = this.fail;
    this.fail = undefined;
    throw error;
  }
}

/** FakeResources records finalizer and status writes; `fail` makes the next write of that kind throw. */
export class FakeResources implements ResourceWriter {
  fail: { op: 'finalizers' | 'status'; error: Error } | undefined;
  readonly journal: Journal;
  constructor(journal = new Journal()) {
    this.journal = journal;
  }

  statusWrites(): Record<string, unknown>[] {
    return this.journal.writes.flatMap((w) => (w.op === 'status' ? [w.status] : []));
  }

  async setFinalizers(_plural: string, _ns: string | undefined, name: string, finalizers: string[]) {
    this.maybeFail('finalizers');
    this.journal.writes.push({ op: 'finalizers', name, finalizers: [...finalizers] });
    return String(this.journal.writes.length);
  }

  async patchStatus(_plural: string, _ns: string | undefined, name: string, status: object) {
    this.maybeFail('status');
    this.journal.writes.push({
      op: 'status',
      name,
      status: structuredClone(status) as Record<string, unknown>,
    });
    return String(this.journal.writes.length);
  }

  private maybeFail(op: 'finalizers' | 'status'): void {
    if (this.fail?.op !== op) return;
    const { error } = this.fail;
    this.fail = undefined;
    throw error;
  }
}

/** FakeEvents records Events (reason, type, note) in the journal. */
export class FakeEvents implements EventRecorder {
  readonly targets: EventTarget[] = [];
  readonly journal: Journal;
  constructor(journal = new Journal()) {
    this.journal = journal;
  }

  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, note: string) {
    this.targets.push(target);
    this.journal.writes.push({ op: 'event', type, reason, note });
  }

  reasons(): string[] {
    return this.journal.writes.flatMap((w) => (w.op === 'event' ? [w.reason] : []));
  }
}

// --- Rancher ------------------------------------------------------------------------------------------------

// Per reference §3: the start states of each credential process, its transitioning state and its done state.
const PROCESSES: Record<
  'activate' | 'deactivate' | 'remove' | 'purge',
  { from: RancherKeyState[]; via: RancherKeyState; to: RancherKeyState }
> = {
  activate: { from: ['inactive', 'registering'], via: 'activating', to: 'active' },
  deactivate: {
    from: ['requested', 'registering', 'active', 'activating', 'updating-active', 'updating-inactive'],
    via: 'deactivating',
    to: 'inactive',
  },
  remove: {
    from: ['requested', 'inactive', 'registering', 'updating-active', 'updating-inactive'],
    via: 'removing',
    to: 'removed',
  },
  purge: { from: ['removed'], via: 'purging', to: 'purged' },
};
type Verb = keyof typeof PROCESSES;

interface StoredKey {
  id: string;
  environment: string | undefined;
  name: string | null;
  description: string | null;
  state: RancherKeyState;
  /** Where a transitioning key lands once Rancher's background process ran. */
  settlesTo: RancherKeyState | undefined;
  accountId: string;
  publicValue: string;
  secretValue: string | null;
  created: string;
  removed: string | null;
}

/** RancherCall is one call the fake client received (method and, where it has one, the key id). */
export interface RancherCall {
  method: keyof RancherClient;
  id?: string;
  filters?: Record<string, string>;
}

/** sqlLike matches Rancher's `_like` filter: `%` is any run of characters, `_` one character. */
function sqlLike(value: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

/**
 * FakeRancher is a small in-memory Rancher 1.x apiKey API behind the RancherClient interface. Keys have the
 * states and per-state actions of reference §3 (an action not offered in the state throws NotAllowedInState);
 * a transition settles the next time anyone reads the key (Rancher's processes finish in milliseconds) unless
 * `autoSettle` is off. Lists hide removed keys unless `_removed` is given; verifyKey and readKeyAs authenticate
 * only an active key's exact pair. `failNext` injects a failure, `loseNextResponse` performs a call then throws.
 */
export class FakeRancher implements RancherClient {
  readonly calls: RancherCall[] = [];
  autoSettle = true;
  identityValue: RancherIdentity = { accountId: '1a1', accountKind: 'admin', canSupplyValues: true };
  private readonly keys = new Map<string, StoredKey>();
  private seq = 10;
  private failures: { method: keyof RancherClient; error: Error; after: boolean }[] = [];

  readonly journal: Journal;
  constructor(journal = new Journal()) {
    this.journal = journal;
  }

  /** failNext makes the next call of `method` throw `error` without doing anything. */
  failNext(method: keyof RancherClient, error: Error = new RancherError('ServerError', 'HTTP 500')): void {
    this.failures.push({ method, error, after: false });
  }

  /** loseNextResponse makes the next call of `method` take effect in Rancher, then throw (a lost response). */
  loseNextResponse(
    method: keyof RancherClient,
    error = new RancherError('Transport', 'socket hang up'),
  ): void {
    this.failures.push({ method, error, after: true });
  }

  /** seed stores a key as if it already existed in Rancher; its secret is `secretValue`. */
  seed(k: {
    description: string | null;
    state?: RancherKeyState;
    publicValue?: string;
    secretValue?: string;
    name?: string;
    environment?: string;
    accountId?: string;
    id?: string;
  }): RancherApiKey {
    const key = this.store({
      name: k.name ?? 'seeded',
      description: k.description,
      state: k.state ?? 'active',
      settlesTo: undefined,
      publicValue: k.publicValue ?? this.newPublicValue(),
      secretValue: k.secretValue ?? `secret-of-${k.publicValue ?? 'seeded'}`,
      environment: k.environment,
      accountId: k.accountId ?? k.environment ?? '1a1',
      ...(k.id ? { id: k.id } : {}),
    });
    if (key.state === 'removed' || key.state === 'purged') key.removed = '2026-01-01T00:00:00Z';
    return this.view(key);
  }

  /** all returns every key Rancher holds (removed and purged included), settled. */
  all(): RancherApiKey[] {
    return [...this.keys.values()].map((k) => this.view(this.settle(k)));
  }

  /** byId returns a key without recording a call (for assertions). */
  peek(id: string): RancherApiKey | undefined {
    const k = this.keys.get(id);
    return k ? this.view(this.settle(k)) : undefined;
  }

  /** settleAll lets every transitioning key reach its done state (for autoSettle = false). */
  settleAll(): void {
    const auto = this.autoSettle;
    this.autoSettle = true;
    for (const k of this.keys.values()) this.settle(k);
    this.autoSettle = auto;
  }

  /** methods returns the names of the calls received, in order. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  async identity(): Promise<RancherIdentity> {
    return this.attempt('identity', undefined, () => ({ ...this.identityValue }));
  }

  async getKey(id: string, scope?: KeyScope): Promise<RancherApiKey | undefined> {
    return this.attempt('getKey', id, () => {
      const k = this.keys.get(id);
      return k && k.environment === scope?.environment ? this.view(this.settle(k)) : undefined;
    });
  }

  async findKeyByPublicValue(publicValue: string, scope?: KeyScope): Promise<RancherApiKey | undefined> {
    return this.attempt('findKeyByPublicValue', undefined, () =>
      this.list(scope, { publicValue }).find((k) => k.publicValue === publicValue),
    );
  }

  async listKeys(
    scope?: KeyScope,
    filters: Record<string, string> = {},
    options?: { keep?: (k: RancherApiKey) => boolean },
  ): Promise<RancherApiKey[]> {
    return this.attempt('listKeys', undefined, () => {
      this.calls[this.calls.length - 1] = { method: 'listKeys', filters: { ...filters } };
      const out = this.list(scope, filters);
      return options?.keep ? out.filter(options.keep) : out;
    });
  }

  async createKey(input: CreateKeyInput, scope?: KeyScope): Promise<CreatedRancherApiKey> {
    return this.attempt('createKey', undefined, () => {
      // Admins may supply both values; anyone else's are silently dropped and generated (reference §4).
      const supplied = this.identityValue.canSupplyValues && input.publicValue !== undefined;
      const publicValue = supplied && input.publicValue ? input.publicValue : this.newPublicValue();
      const secretValue = supplied ? (input.secretValue ?? null) : `generated-secret-${publicValue}`;
      const live = [...this.keys.values()].some(
        (k) => k.removed === null && k.publicValue.toLowerCase() === publicValue.toLowerCase(),
      );
      if (live) throw new RancherError('NotUnique', 'cannot create key: HTTP 422 NotUnique', { status: 422 });
      const key = this.store({
        name: input.name ?? null,
        description: input.description ?? null,
        state: 'registering',
        settlesTo: 'active',
        publicValue,
        secretValue,
        environment: scope?.environment,
        accountId: scope?.environment ?? this.identityValue.accountId,
      });
      this.journal.writes.push({ op: 'rancher.createKey', id: key.id });
      return { ...this.view(key), secretValue };
    });
  }

  async updateKey(key: RancherApiKey, patch: { name?: string; description?: string }) {
    return this.attempt('updateKey', key.id, () => {
      const k = this.mustGet(key.id, 'updateKey');
      if (patch.name !== undefined) k.name = patch.name;
      if (patch.description !== undefined) k.description = patch.description;
      this.journal.writes.push({ op: 'rancher.updateKey', id: k.id });
      return this.view(k);
    });
  }

  activateKey = (key: RancherApiKey) => this.action('activate', 'activateKey', key);
  deactivateKey = (key: RancherApiKey) => this.action('deactivate', 'deactivateKey', key);
  removeKey = (key: RancherApiKey) => this.action('remove', 'removeKey', key);
  purgeKey = (key: RancherApiKey) => this.action('purge', 'purgeKey', key);

  async waitForTransition(key: RancherApiKey): Promise<RancherApiKey | undefined> {
    this.call({ method: 'waitForTransition', id: key.id });
    const k = this.keys.get(key.id);
    return k ? this.view(this.settle(k)) : undefined;
  }

  async readKeyAs(
    key: RancherApiKey,
    credentials: RancherCredentials,
  ): Promise<RancherApiKey | 'unauthenticated' | 'hidden'> {
    return this.attempt('readKeyAs', key.id, () => {
      const k = this.keys.get(key.id);
      if (!this.authenticates(credentials)) return 'unauthenticated';
      return k ? this.view(this.settle(k)) : 'hidden';
    });
  }

  async verifyKey(credentials: RancherCredentials): Promise<boolean> {
    return this.attempt('verifyKey', undefined, () => this.authenticates(credentials));
  }

  private authenticates(credentials: RancherCredentials): boolean {
    return [...this.keys.values()].some(
      (k) =>
        this.settle(k).state === 'active' &&
        k.publicValue === credentials.accessKey &&
        k.secretValue !== null &&
        k.secretValue === credentials.secretKey,
    );
  }

  async close(): Promise<void> {}

  private list(scope: KeyScope | undefined, filters: Record<string, string>): RancherApiKey[] {
    const showRemoved = '_removed' in filters;
    const out: RancherApiKey[] = [];
    for (const raw of this.keys.values()) {
      const k = this.settle(raw);
      if (k.environment !== scope?.environment) continue;
      if (!showRemoved && k.removed !== null) continue;
      const match = Object.entries(filters).every(([f, v]) => {
        if (f === '_removed') return true;
        if (f === 'description_like') return sqlLike(k.description ?? '', v);
        if (f === 'publicValue') return k.publicValue === v;
        if (f === 'name') return k.name === v;
        return true; // Rancher ignores filters it does not know
      });
      if (match) out.push(this.view(k));
    }
    return out;
  }

  private async action(verb: Verb, method: keyof RancherClient, key: RancherApiKey): Promise<RancherApiKey> {
    return this.attempt(method, key.id, () => {
      const k = this.settle(this.mustGet(key.id, method));
      const p = PROCESSES[verb];
      // The client follows the link of the key it holds; Rancher checks the state it has now (422 or 409).
      if (!(verb in key.actions) || !p.from.includes(k.state)) {
        throw new RancherError(
          'NotAllowedInState',
          `cannot ${method}: action ${verb} is not offered in state ${k.state}`,
        );
      }
      k.state = p.via;
      k.settlesTo = p.to;
      if (p.to === 'removed') k.removed = '2026-01-01T00:00:00Z';
      this.journal.writes.push({ op: `rancher.${method}`, id: k.id });
      return this.view(k);
    });
  }

  private attempt<T>(method: keyof RancherClient, id: string | undefined, run: () => T): T {
    this.call(id ? { method, id } : { method });
    const i = this.failures.findIndex((f) => f.method === method);
    const failure = i >= 0 ? this.failures.splice(i, 1)[0] : undefined;
    if (failure && !failure.after) throw failure.error;
    const out = run();
    if (failure) throw failure.error;
    return out;
  }

  private call(c: RancherCall): void {
    this.calls.push(c);
  }

  private mustGet(id: string, method: string): StoredKey {
    const k = this.keys.get(id);
    if (!k) throw new RancherError('NotFound', `cannot ${method}: HTTP 404`, { status: 404 });
    return k;
  }

  private settle(k: StoredKey): StoredKey {
    if (this.autoSettle && k.settlesTo) {
      k.state = k.settlesTo;
      k.settlesTo = undefined;
    }
    return k;
  }

  private store(k: Omit<StoredKey, 'id' | 'created' | 'removed'> & { id?: string }): StoredKey {
    this.seq++;
    const stored: StoredKey = {
      ...k,
      id: k.id ?? `1c${this.seq}`,
      created: '2026-01-01T00:00:00Z',
      removed: null,
    };
    this.keys.set(stored.id, stored);
    return stored;
  }

  private newPublicValue(): string {
    return `FAKE${String(++this.seq).padStart(16, '0')}`;
  }

  private view(k: StoredKey): RancherApiKey {
    const base = `https://rancher.test/v1/apikeys/${k.id}`;
    const actions: Record<string, string> = {};
    for (const [verb, p] of Object.entries(PROCESSES)) {
      if (p.from.includes(k.state)) actions[verb] = `${base}/?action=${verb}`;
    }
    if (k.state === 'active' || k.state === 'inactive') actions.update = `${base}/?action=update`;
    return {
      id: k.id,
      name: k.name,
      description: k.description,
      state: k.state,
      transitioning: k.settlesTo ? 'yes' : 'no',
      accountId: k.accountId,
      publicValue: k.publicValue,
      created: k.created,
      removed: k.removed,
      actions,
      links: { self: base },
    };
  }
}

// --- ApiKeys and connections ---------------------------------------------------------------------------------

/** UID is the uid of the ApiKey most tests use (the marker needs hex and dashes). */
export const UID = 'aaaaaaaa-0000-4000-8000-000000000001';
/** URL is the Rancher URL of the fake connection. */
export const URL = 'https://rancher.test';

/** apiKeyObject returns an ApiKey as the informer cache holds it, with `over` merged per section. */
export function apiKeyObject(
  over: {
    metadata?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  return {
    apiVersion: 'rancher.keyops.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: {
      name: 'ci',
      namespace: 'team-a',
      uid: UID,
      generation: 1,
      resourceVersion: '7',
      finalizers: ['rancher.keyops.dev/finalizer'],
      ...over.metadata,
    },
    spec: { connectionRef: { name: 'rancher' }, ...over.spec },
    ...(over.status ? { status: over.status } : {}),
  };
}

/** MapCache is an ObjectCache over a Map keyed `namespace/name`. */
/**
 * MapCache is an informer cache. Like the apiserver, it gives every stored change a new resourceVersion: an
 * object set with the resourceVersion it already has (a test changing it in place) gets a fresh one.
 */
export class MapCache {
  readonly objects = new Map<string, unknown>();
  private seq = 0;
  get(name: string, namespace?: string): unknown {
    return structuredClone(this.objects.get(`${namespace ?? ''}/${name}`));
  }
  set(namespace: string, name: string, obj: unknown): void {
    const key = `${namespace}/${name}`;
    const meta = metadataOf(obj);
    if (
      meta &&
      (meta.resourceVersion === undefined ||
        meta.resourceVersion === metadataOf(this.objects.get(key))?.resourceVersion)
    )
      meta.resourceVersion = `cache-${++this.seq}`;
    this.objects.set(key, obj);
  }
}

function metadataOf(obj: unknown): { resourceVersion?: unknown } | undefined {
  if (typeof obj !== 'object' || obj === null || !('metadata' in obj)) return undefined;
  const meta = obj.metadata;
  return typeof meta === 'object' && meta !== null ? meta : undefined;
}
