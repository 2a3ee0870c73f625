import { createHash } from 'node:crypto';
import {
  INVENTORY_LIST_LIMITS,
  MAX_PAGE_SIZE,
  type RancherApiKey,
  type RancherClient,
} from '../../rancher/index.ts';
import type { ObjectCache } from '../connection/types.ts';
import { ANY_MARKER_FILTER, uidFromDescription } from '../marker.ts';
import type { ObjectKey } from '../object-key.ts';
import type { DriftTracker } from './drift.ts';

/** KeyShape is how a converged ApiKey's Rancher key looks in a list: the fields a drift check compares. */
export interface KeyShape {
  id: string;
  publicValue: string;
  state: 'active' | 'inactive';
  name: string;
  description: string;
}

/** Expectation is one ApiKey at rest (uid and queue key) and the shape its key (status.id) must have. */
export interface Expectation {
  uid: string;
  key: ObjectKey;
  shape: KeyShape;
}

/** InventoryScope is where a key lives: one Rancher client (connection credentials) and environment. */
export interface InventoryScope {
  client: RancherClient;
  environment: string | undefined;
}

/** KeyInventory checks ApiKeys at rest against one paged list per connection scope and drift interval. */
export interface KeyInventory {
  /**
   * shows registers the expectation and says whether the scope's list shows the key exactly in that shape,
   * with no other key carrying the ApiKey's marker. It reads the list when the last one is older than a
   * tenth of the drift interval; that read checks every ApiKey registered in the scope at once. False means
   * "ask Rancher about this key" (the list does not show it, shows it otherwise, or could not be read).
   */
  shows(scope: InventoryScope, e: Expectation): Promise<boolean>;
  /**
   * readable says whether the scope's list could be read within the last drift interval (reading it now when
   * not): proof that the credentials may list keys there, so a new ApiKey needs no marker list of its own.
   */
  readable(scope: InventoryScope): Promise<boolean>;
  /** expect registers (or refreshes) an ApiKey at rest whose drift check is not due. */
  expect(scope: InventoryScope, e: Expectation): void;
  /** forget drops an ApiKey (deleted, or no longer at rest in a known scope). */
  forget(uid: string): void;
}

/** KeyInventoryDeps are the inventory's effects: the drift schedule it advances and the queue it feeds. */
export interface KeyInventoryDeps {
  intervalMs: number;
  drift: DriftTracker;
  apiKeys: ObjectCache;
  /** requeue runs a pass for an ApiKey whose key the list shows differently (or not at all). */
  requeue(key: ObjectKey): void;
  now(): number;
}

interface Listed {
  /** Fingerprint of every listed key carrying a marker, by id (transitioning keys have none). */
  shapes: Map<string, string>;
  /** How many listed keys carry each ApiKey uid's marker. */
  marked: Map<string, number>;
}

interface ScopeState {
  at: number;
  /** The last list, or undefined when it could not be read (the keys are then checked one by one). */
  listed: Listed | undefined;
  reading: Promise<void> | undefined;
  entries: Map<string, Entry>;
}

interface Entry {
  key: ObjectKey;
  id: string;
  fingerprint: string;
}

/**
 * perScope returns the state kept for each connection scope (client and environment), made by `init` on first
 * use; a closed connection's client is dropped with its states.
 */
export function perScope<T>(init: () => T): (scope: InventoryScope) => T {
  const scopes = new WeakMap<RancherClient, Map<string, T>>();
  return (scope) => {
    const byEnv = scopes.get(scope.client) ?? new Map<string, T>();
    scopes.set(scope.client, byEnv);
    const env = scope.environment ?? '';
    let s = byEnv.get(env);
    if (s === undefined) {
      s = init();
      byEnv.set(env, s);
    }
    return s;
  };
}

/** fingerprintOf hashes a key shape, so 10,000 registered ApiKeys hold 22 characters each, not descriptions. */
function fingerprintOf(s: KeyShape): string {
  const text = JSON.stringify([s.id, s.publicValue, s.state, s.name, s.description]);
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

function shapeOf(k: RancherApiKey): KeyShape | undefined {
  if (k.transitioning !== 'no' || (k.state !== 'active' && k.state !== 'inactive')) return undefined;
  return {
    id: k.id,
    publicValue: k.publicValue,
    state: k.state,
    name: k.name ?? '',
    description: k.description ?? '',
  };
}

function showsEntry(listed: Listed, uid: string, e: Entry): boolean {
  return listed.shapes.get(e.id) === e.fingerprint && listed.marked.get(uid) === 1;
}

/**
 * readList lists every key carrying a marker in one scope (pages of 3,000, within the inventory limits) and
 * keeps only fingerprints: the parsed keys are dropped page by page. Every key counts against the limits.
 */
async function readList(scope: InventoryScope): Promise<Listed> {
  const listed: Listed = { shapes: new Map(), marked: new Map() };
  const keep = (k: RancherApiKey): boolean => {
    const uid = uidFromDescription(k.description);
    if (!uid) return false;
    listed.marked.set(uid, (listed.marked.get(uid) ?? 0) + 1);
    const shape = shapeOf(k);
    if (shape) listed.shapes.set(k.id, fingerprintOf(shape));
    return false;
  };
  const options = { ...INVENTORY_LIST_LIMITS, pageSize: MAX_PAGE_SIZE, keep };
  await scope.client.listKeys({ environment: scope.environment }, { ...ANY_MARKER_FILTER }, options);
  return listed;
}

/**
 * createKeyInventory replaces a GET and a verification per key and drift interval by one paged list per
 * connection scope: the list is read when a due drift check finds the last one older than a tenth of the
 * interval, and that read checks every ApiKey at rest in the scope. Those it shows as expected are checked
 * (their next drift check is scheduled); the others are requeued to ask Rancher about their own key. A
 * list that cannot be read (limits, deadline, errors) is not read again for one interval: meanwhile each
 * key is checked on its own, as before, so a huge or hostile Rancher costs its own connection's keys.
 */
export function createKeyInventory(deps: KeyInventoryDeps): KeyInventory {
  const freshMs = deps.intervalMs / 10;
  const owners = new Map<string, ScopeState>();
  const stateOf = perScope<ScopeState>(() => ({
    at: Number.NEGATIVE_INFINITY,
    listed: undefined,
    reading: undefined,
    entries: new Map(),
  }));

  function register(scope: InventoryScope, e: Expectation): { state: ScopeState; entry: Entry } {
    const state = stateOf(scope);
    const before = owners.get(e.uid);
    if (before && before !== state) before.entries.delete(e.uid);
    owners.set(e.uid, state);
    const entry = { key: e.key, id: e.shape.id, fingerprint: fingerprintOf(e.shape) };
    state.entries.set(e.uid, entry);
    return { state, entry };
  }

  function forget(uid: string): void {
    owners.get(uid)?.entries.delete(uid);
    owners.delete(uid);
  }

  /** sweep checks every other registered ApiKey of the scope against a list just read. */
  function sweep(state: ScopeState, listed: Listed, except: string): void {
    const now = deps.now();
    for (const [uid, entry] of state.entries) {
      if (uid === except) continue;
      const live = deps.apiKeys.get(entry.key.name, entry.key.namespace) as
        | { metadata?: { uid?: string } }
        | undefined;
      if (live?.metadata?.uid !== uid) {
        forget(uid);
        continue;
      }
      if (showsEntry(listed, uid, entry)) {
        deps.drift.checked(uid, now);
        continue;
      }
      // Due at once: the pass asks Rancher about this key by id before acting on what the list showed.
      deps.drift.forget(uid);
      deps.requeue(entry.key);
    }
  }

  async function read(scope: InventoryScope, state: ScopeState, except: string): Promise<void> {
    let listed: Listed | undefined;
    try {
      listed = await readList(scope);
    } catch {
      listed = undefined;
    }
    state.at = deps.now();
    state.listed = listed;
    if (listed) sweep(state, listed, except);
  }

  function stale(state: ScopeState, maxAgeMs: number): boolean {
    const age = deps.now() - state.at;
    return state.listed ? age >= maxAgeMs : age >= deps.intervalMs;
  }

  /** fresh waits for a read in progress, or reads the list when the last one is older than `maxAgeMs`. */
  async function fresh(scope: InventoryScope, state: ScopeState, maxAgeMs: number, except: string) {
    if (state.reading) return state.reading;
    if (!stale(state, maxAgeMs)) return;
    state.reading = read(scope, state, except).finally(() => {
      state.reading = undefined;
    });
    return state.reading;
  }

  return {
    async shows(scope, e) {
      const { state, entry } = register(scope, e);
      await fresh(scope, state, freshMs, e.uid);
      if (!state.listed || !showsEntry(state.listed, e.uid, entry)) return false;
      deps.drift.checked(e.uid, deps.now());
      return true;
    },
    async readable(scope) {
      const state = stateOf(scope);
      await fresh(scope, state, deps.intervalMs, '');
      return state.listed !== undefined;
    },
    expect(scope, e) {
      register(scope, e);
    },
    forget,
  };
}
