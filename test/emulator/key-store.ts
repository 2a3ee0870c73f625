import { randomUUID } from 'node:crypto';
import type { KeyRecord, KeyState } from './model.ts';
import { type ActionName, transitionOf } from './state-machine.ts';

/** KeyStoreOptions set how long transitions take and when removed keys are purged by themselves. */
export interface KeyStoreOptions {
  transitionDelayMs: number;
  /** Delay between `removed` and the automatic purge, drawn once per removal. */
  autoPurgeDelayMs: () => number;
  now: () => number;
}

/** NewKey is what a create stores; secretHash is already hashed (never the clear secret). */
export interface NewKey {
  accountId: string;
  name: string | null;
  description: string | null;
  publicValue: string | null;
  secretHash: string | null;
}

function addToIndex<K>(index: Map<K, Set<KeyRecord>>, key: K, record: KeyRecord): void {
  const set = index.get(key);
  if (set) set.add(record);
  else index.set(key, new Set([record]));
}

const EMPTY: ReadonlySet<KeyRecord> = new Set();

/** KeyStore holds every apiKey row, indexed by id, publicValue (case-insensitive) and account, and runs their processes. */
export class KeyStore {
  readonly #options: KeyStoreOptions;
  readonly #byDbId = new Map<number, KeyRecord>();
  readonly #byPublicValue = new Map<string, Set<KeyRecord>>();
  readonly #byAccount = new Map<string, Set<KeyRecord>>();
  #nextDbId = 1;

  constructor(options: KeyStoreOptions) {
    this.#options = options;
  }

  /** insert stores a new key in the given state (create uses `registering`, seeds use `active`). */
  insert(input: NewKey, state: KeyState): KeyRecord {
    const dbId = this.#nextDbId++;
    const record: KeyRecord = {
      ...input,
      dbId,
      id: `1c${dbId}`,
      uuid: randomUUID(),
      state,
      // Cattle stores datetimes with second precision.
      created: Math.floor(this.#options.now() / 1000) * 1000,
      removed: null,
      removeTime: null,
      timer: undefined,
    };
    this.#byDbId.set(dbId, record);
    if (record.publicValue !== null)
      addToIndex(this.#byPublicValue, record.publicValue.toLowerCase(), record);
    addToIndex(this.#byAccount, record.accountId, record);
    return record;
  }

  /** get returns the key with a database id, including removed and purged ones. */
  get(dbId: number): KeyRecord | undefined {
    return this.#byDbId.get(dbId);
  }

  /** all iterates every key in id order. */
  all(): Iterable<KeyRecord> {
    return this.#byDbId.values();
  }

  /** size is the number of stored keys, purged ones included. */
  get size(): number {
    return this.#byDbId.size;
  }

  /** ofAccount iterates the keys owned by an account or environment, in id order. */
  ofAccount(accountId: string): Iterable<KeyRecord> {
    return this.#byAccount.get(accountId) ?? EMPTY;
  }

  /** withPublicValue iterates keys whose publicValue equals the value case-insensitively, in id order. */
  withPublicValue(publicValue: string): Iterable<KeyRecord> {
    return this.#byPublicValue.get(publicValue.toLowerCase()) ?? EMPTY;
  }

  /** hasLivePublicValue tells whether a non-removed key already uses the publicValue (case-insensitive). */
  hasLivePublicValue(publicValue: string): boolean {
    for (const key of this.withPublicValue(publicValue)) if (key.removed === null) return true;
    return false;
  }

  /** start moves a key into an action's transitioning state now and into its done state after the delay. */
  start(key: KeyRecord, action: ActionName): void {
    const { transitioning, done } = transitionOf(action, key.state);
    this.#setState(key, transitioning, done);
  }

  /** register puts a freshly created key in `registering`; it becomes `active` after the delay. */
  register(key: KeyRecord): void {
    this.#setState(key, 'registering', 'active');
  }

  /** close cancels every pending transition and automatic purge. */
  close(): void {
    for (const key of this.#byDbId.values()) clearTimeout(key.timer);
  }

  #setState(key: KeyRecord, transitioning: KeyState, done: KeyState): void {
    clearTimeout(key.timer);
    key.state = transitioning;
    key.timer = setTimeout(() => this.#finish(key, done), this.#options.transitionDelayMs);
  }

  #finish(key: KeyRecord, done: KeyState): void {
    key.timer = undefined;
    key.state = done;
    if (done !== 'removed') return;
    // SetRemovedFields: removed = now, removeTime = now + delay; the purge monitor purges it after removeTime.
    const now = this.#options.now();
    const delay = this.#options.autoPurgeDelayMs();
    key.removed = Math.floor(now / 1000) * 1000;
    key.removeTime = Math.floor((now + delay) / 1000) * 1000;
    key.timer = setTimeout(() => {
      if (key.state === 'removed') this.start(key, 'purge');
    }, delay);
  }
}
