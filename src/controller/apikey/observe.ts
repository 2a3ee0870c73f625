import type { V1Secret } from '@kubernetes/client-node';
import { type ApiKey, ApiKeySchema } from '../../api/apikey.ts';
import { ANNOTATIONS, FINALIZER } from '../../api/names.ts';
import type { SecretStore } from '../../kube/secrets.ts';
import type { WorkloadStore } from '../../kube/workloads.ts';
import type { KeyScope, RancherApiKey, RancherClient } from '../../rancher/index.ts';
import type { ConnectionResolver, ObjectCache } from '../connection/resolver.ts';
import { markerFilter, rancherDescription, releasedDescription, uidFromDescription } from '../marker.ts';
import { describeRancherFailure } from '../rancher-failure.ts';
import { observeAdoption } from './adopt/observe-adopt.ts';
import { adoptionPending } from './adopt/view.ts';
import { observeConsumers } from './consumers/observe-consumers.ts';
import type { DriftTracker } from './drift.ts';
import type { Expectation, KeyInventory } from './key-inventory.ts';
import { toKeyView } from './key-view.ts';
import type { Observation, RancherView, SecretView } from './model.ts';
import { rotationDue } from './plan/rotation.ts';
import type { RetirementLists } from './retirement-list.ts';
import {
  type KeyPair,
  readPair,
  secretNameOf,
  stagingNameOf,
  viewSecret,
  viewStaging,
} from './secret-data.ts';
import { neverWrittenTo, type UnreadSecrets } from './unread-secrets.ts';

/** ObserveDeps are the read-only effects observe uses. */
export interface ObserveDeps {
  apiKeys: ObjectCache;
  secretCache: ObjectCache;
  secrets: SecretStore;
  connections: ConnectionResolver;
  drift: DriftTracker;
  /** inventory checks ApiKeys at rest against one key list per connection scope and drift interval. */
  inventory: KeyInventory;
  /** retirements answer deletions from one shared key list per scope; absent: each lists by its own marker. */
  retirements?: RetirementLists;
  /** Workloads, read only for a pending consumer restart; absent when the operator runs without consumer restarts. */
  workloads?: WorkloadStore;
  /** When present, a brand-new ApiKey's absent Secret is taken from the cache (see unread-secrets.ts). */
  unreadSecrets?: UnreadSecrets;
  now(): number;
}

/** Observed is an observation plus what the executor needs to act on it (clients, raw keys, live Secret). */
export interface Observed {
  observation: Observation;
  client: RancherClient | undefined;
  scope: KeyScope;
  url: string | undefined;
  liveSecret: V1Secret | undefined;
  /** The rotation staging Secret, read live when Rancher is consulted. */
  liveStaging: V1Secret | undefined;
  /** The Secret as the informer cache holds it (may lag behind liveSecret). */
  cachedSecret: V1Secret | undefined;
  keys: Map<string, RancherApiKey>;
  /** The pair spec.adopt names, once it authenticated (for the executor's AdoptKey only). */
  adoptPair?: KeyPair;
  /**
   * secretUnread: the Secret was not read live (a brand-new ApiKey, absent from the cache): the executor
   * creates it before adding the finalizer, and a 409 on that create makes the next pass read it.
   */
  secretUnread?: boolean;
}

/** ObserveResult is an observation, an object that no longer exists, or a spec the operator cannot parse. */
export type ObserveResult = Observed | { gone: true } | { invalid: string; raw: unknown };

/**
 * observe gathers everything plan() needs for one ApiKey, read-only. In steady state it uses only
 * informer caches, and a due drift check only the connection's key list; when anything may need a write
 * (or the list does not show the key as expected) it reads the Secret live and asks Rancher. Absence is
 * data: a missing Secret or key is `undefined`, not an error.
 */
export async function observe(nsName: string, deps: ObserveDeps): Promise<ObserveResult> {
  const [namespace, name] = nsName.split('/');
  if (!namespace || !name) return { gone: true };
  const raw = deps.apiKeys.get(name, namespace);
  if (raw === undefined) return { gone: true };
  const parsed = ApiKeySchema.safeParse(raw);
  if (!parsed.success)
    return { invalid: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), raw };
  const apiKey = parsed.data;
  const deleting = apiKey.metadata.deletionTimestamp !== undefined;
  const secretName = secretNameOf(apiKey);
  const ref = deps.connections.refFor(apiKey);
  const resolved = await deps.connections.resolve(ref, { forDeletion: deleting });
  const url = resolved?.url;
  const cached = deps.secretCache.get(secretName, namespace) as V1Secret | undefined;
  const cachedStaging = deps.secretCache.get(stagingNameOf(apiKey), namespace) as V1Secret | undefined;
  let secret = viewSecret(cached, apiKey, url);
  const observation: Observation = {
    now: new Date(deps.now()).toISOString(),
    apiKey,
    deleting,
    hasFinalizer: apiKey.metadata.finalizers?.includes(FINALIZER) ?? false,
    paused: apiKey.metadata.annotations?.[ANNOTATIONS.paused] === 'true',
    desiredName: apiKey.spec.name ?? apiKey.metadata.name,
    desiredDescription: rancherDescription(apiKey),
    releasedDescription: releasedDescription(apiKey),
    secretName,
    connection: resolved?.view,
    secret,
    staging: viewStaging(cachedStaging, apiKey),
    rotateRequested: apiKey.metadata.annotations?.[ANNOTATIONS.rotateRequestedAt],
    rancher: { checked: false },
  };
  const out: Observed = {
    observation,
    client: resolved?.client,
    scope: { environment: apiKey.spec.environment },
    url,
    liveSecret: undefined,
    liveStaging: undefined,
    cachedSecret: cached,
    keys: new Map(),
  };
  if (!resolved?.client || observation.paused) return out;
  if (deleting ? !observation.hasFinalizer : await restsAsListed(observation, resolved.client, deps))
    return out;
  const canSupplyValues = resolved.view.ok && resolved.view.canSupplyValues === true;
  if (!deleting && secret.state === 'absent' && deps.unreadSecrets?.mayTrustCache(apiKey, canSupplyValues)) {
    out.secretUnread = true;
  } else if (secret.state !== 'absent' || !deleting) {
    out.liveSecret = await deps.secrets.read(namespace, secretName);
    secret = viewSecret(out.liveSecret, apiKey, url);
    observation.secret = secret;
  }
  // The staging Secret has a name only this ApiKey uses: the cache's "absent" is trusted unless a rotation is
  // due (then a lagging cache must not make the operator stage twice).
  if (observation.staging.state !== 'absent' || (!deleting && rotationDue(observation))) {
    out.liveStaging = await deps.secrets.read(namespace, stagingNameOf(apiKey));
    observation.staging = viewStaging(out.liveStaging, apiKey);
  }
  // An ApiKey the operator never wrote to cannot have keys of a lost create. Its marker list is then only a check
  // that the credentials may use the environment, which the connection scope's list (one per interval) also proves.
  const untouched = !deleting && neverWrittenTo(apiKey);
  const scope = { client: resolved.client, environment: apiKey.spec.environment };
  const skipMarkerList = untouched && (await deps.inventory.readable(scope));
  const shared = deleting ? await deps.retirements?.marked(scope, apiKey.metadata.uid) : undefined;
  observation.rancher = await askRancher(apiKey, out, deleting, skipMarkerList, shared);
  if (!deleting && adoptionPending(apiKey)) await askAdoption(out, deps.secrets);
  if (!deleting)
    observation.consumers = await observeConsumers(apiKey, secretName, deps.now(), deps.workloads);
  return out;
}

/** askAdoption observes the key spec.adopt names (a Rancher failure is reported like askRancher's). */
async function askAdoption(out: Observed, secrets: SecretStore): Promise<void> {
  const { observation } = out;
  if (!out.client || !observation.rancher.checked || 'error' in observation.rancher) return;
  try {
    const adoption = await observeAdoption(
      observation.apiKey,
      { client: out.client, scope: out.scope },
      secrets,
    );
    observation.adopt = adoption.view;
    out.adoptPair = adoption.pair;
    if (adoption.key) out.keys.set(adoption.key.id, adoption.key);
  } catch (err) {
    const f = describeRancherFailure(err, `Rancher at ${out.url}`);
    const error = { code: f.code, reason: f.reason, message: f.message, retryable: f.retryable };
    observation.rancher = { checked: true, error };
  }
}

/** unsettled is true when status, spec and Secret disagree, or a reconcile was requested: Rancher must be asked. */
function unsettled(apiKey: ApiKey, secret: SecretView): boolean {
  const s = apiKey.status;
  const ready = s?.conditions?.find((c) => c.type === 'Ready');
  const requested = apiKey.metadata.annotations?.[ANNOTATIONS.reconcileRequestedAt];
  return (
    s?.observedGeneration !== apiKey.metadata.generation ||
    ready?.status !== 'True' ||
    !s?.id ||
    (s.retiring?.length ?? 0) > 0 ||
    secret.state !== 'owned' ||
    !secret.intact ||
    !secret.upToDate ||
    secret.publicValue !== s.publicValue ||
    (requested !== undefined && requested !== s.lastHandledReconcileAt)
  );
}

/** expectationOf is the shape a settled ApiKey's key must have in Rancher (none in plan mode: it only plans). */
function expectationOf(o: Observation): Expectation | undefined {
  const { apiKey } = o;
  const { namespace, name, uid } = apiKey.metadata;
  const id = apiKey.status?.id;
  const publicValue = apiKey.status?.publicValue;
  if (apiKey.spec.mode === 'Plan' || !namespace || !id || !publicValue) return undefined;
  const state = apiKey.spec.state === 'Active' ? 'active' : 'inactive';
  const shape = { id, publicValue, state, name: o.desiredName, description: o.desiredDescription } as const;
  return { uid, key: { namespace, name }, shape };
}

/**
 * restsAsListed is true when a live ApiKey needs nothing from Rancher in this pass: it is settled and its drift
 * check is not due, or the connection's key list shows its key exactly as expected (see key-inventory.ts).
 */
async function restsAsListed(o: Observation, client: RancherClient, deps: ObserveDeps): Promise<boolean> {
  if (unsettled(o.apiKey, o.secret) || o.staging.state !== 'absent' || rotationDue(o)) return false;
  const expected = expectationOf(o);
  const scope = { client, environment: o.apiKey.spec.environment };
  if (!deps.drift.due(o.apiKey.metadata.uid, deps.now())) {
    if (expected) deps.inventory.expect(scope, expected);
    return true;
  }
  return expected !== undefined && (await deps.inventory.shows(scope, expected));
}

async function askRancher(
  apiKey: ApiKey,
  out: Observed,
  deleting: boolean,
  skipMarkerList: boolean,
  shared: RancherApiKey[] | undefined,
): Promise<RancherView> {
  const client = out.client;
  if (!client) return { checked: false };
  const remember = (k: RancherApiKey | undefined) => {
    if (k) out.keys.set(k.id, k);
    return k;
  };
  try {
    const status = apiKey.status;
    const markerList = () =>
      client.listKeys(out.scope, { ...markerFilter(apiKey.metadata.uid), _removed: 'true' });
    // A deletion needs the marker list anyway (the scope's shared list when it may answer: retirement-list.ts);
    // the key status names is in it unless its marker was changed.
    const listed = deleting ? (shared ?? (await markerList())) : undefined;
    const listedById = status?.id ? listed?.find((k) => k.id === status.id) : undefined;
    const byId = remember(
      status?.id ? (listedById ?? (await client.getKey(status.id, out.scope))) : undefined,
    );
    const pv = out.liveSecret ? readPair(out.liveSecret)?.publicValue : undefined;
    let bySecret: RancherApiKey | undefined;
    if (pv && byId?.publicValue === pv) bySecret = byId;
    else if (pv) bySecret = remember(await client.findKeyByPublicValue(pv, out.scope));
    const healthy = bySecret !== undefined && bySecret.id === status?.id;
    let marked: RancherApiKey[] = [];
    if (deleting || (!healthy && !skipMarkerList) || (status?.retiring?.length ?? 0) > 0) {
      // The LIKE filter matches the marker anywhere; only the trailing, operator-written marker proves it.
      marked = (listed ?? (await markerList())).filter(
        (k) => k.state !== 'purged' && uidFromDescription(k.description) === apiKey.metadata.uid,
      );
      for (const k of marked) remember(k);
    }
    const stagedPv = out.liveStaging ? readPair(out.liveStaging)?.publicValue : undefined;
    const byStaging = stagedPv ? remember(await client.findKeyByPublicValue(stagedPv, out.scope)) : undefined;
    const pair = out.liveSecret ? readPair(out.liveSecret) : undefined;
    // Verify whenever the key should authenticate (a key deactivated out of band then reads Verified=False),
    // and whenever the Secret names a key that status does not: the pair is then the proof of ownership.
    const verifiable =
      !deleting &&
      pair &&
      bySecret &&
      !['removed', 'purged'].includes(bySecret.state) &&
      (apiKey.spec.state === 'Active' || bySecret.id !== status?.id);
    const verified = verifiable
      ? await client.verifyKey({ accessKey: pair.publicValue, secretKey: pair.secretValue }, out.scope)
      : undefined;
    const stagedPair = out.liveStaging ? readPair(out.liveStaging) : undefined;
    const stagingVerifiable =
      !deleting &&
      stagedPair &&
      byStaging?.state === 'active' &&
      uidFromDescription(byStaging.description) === apiKey.metadata.uid;
    const stagingVerified = stagingVerifiable
      ? await client.verifyKey(
          { accessKey: stagedPair.publicValue, secretKey: stagedPair.secretValue },
          out.scope,
        )
      : undefined;
    const retiring: RancherApiKey[] = [];
    for (const r of status?.retiring ?? []) {
      const k = out.keys.get(r.id) ?? remember(await client.getKey(r.id, out.scope));
      if (k && k.state !== 'purged') retiring.push(k);
    }
    return {
      checked: true,
      byId: byId ? toKeyView(byId) : undefined,
      bySecret: bySecret && bySecret.state !== 'purged' ? toKeyView(bySecret) : undefined,
      marked: marked.map(toKeyView),
      retiring: retiring.map(toKeyView),
      byStaging: byStaging && byStaging.state !== 'purged' ? toKeyView(byStaging) : undefined,
      verified,
      stagingVerified,
    };
  } catch (err) {
    const f = describeRancherFailure(err, `Rancher at ${out.url}`);
    return {
      checked: true,
      error: { code: f.code, reason: f.reason, message: f.message, retryable: f.retryable },
    };
  }
}
