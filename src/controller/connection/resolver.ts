import { createHash } from 'node:crypto';
import type { SecretStore } from '../../kube/secrets.ts';
import type { RancherClient, RancherClientOptions, RancherIdentity } from '../../rancher/index.ts';
import { describeRancherFailure } from '../rancher-failure.ts';
import type { ConfigMapReader } from './ca-bundle.ts';
import { createCaSource } from './ca-source.ts';
import { watchCredentials } from './credential-watch.ts';
import { type Endpoint, type EndpointDeps, endpointOf, refusal as fail } from './endpoint.ts';
import { type CredentialsOptIn, credentialsSecretRefusal } from './policy.ts';
import { connectionRefOf } from './ref.ts';
import type { ConnectionId, ConnectionRef, ConnectionResolver, ObjectCache, Resolved } from './types.ts';

export type { ConnectionId, ConnectionRef, ConnectionResolver, ObjectCache, Resolved } from './types.ts';

/** ConnectionResolverDeps are the effects the resolver needs. */
export interface ConnectionResolverDeps {
  connections: ObjectCache;
  clusterConnections: ObjectCache;
  secrets: SecretStore;
  /** Reads the ConfigMaps a spec.caBundleRef names. */
  configMaps: ConfigMapReader;
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  makeClient(opts: RancherClientOptions): RancherClient;
  operatorNamespace: string;
  now(): number;
  credentialsTtlMs?: number;
  identityTtlMs?: number;
  /** Whether an unlabelled Opaque Secret may hold credentials; default optional. */
  credentialsOptIn?: CredentialsOptIn;
  /** URL prefixes namespaced RancherConnections may use; empty = any. */
  allowedUrls?: readonly string[];
  /** False when ClusterRancherConnections are turned off (CLUSTER_CONNECTIONS=false); default true. */
  clusterConnectionsEnabled?: boolean;
  /** Called for a connection to re-check: Rancher refused its verified credentials, or an ApiKey pass saw new ones. */
  onInvalidated?(conn: ConnectionId): void;
  /** Runs fn after ms (default: an unref'd setTimeout); tests pass their own. */
  setTimer?(fn: () => void, ms: number): void;
}

type Credentials = { accessKey: string; secretKey: string };

// A refusal drops a verified identity at most once per this age (a server answering the identity call
// but refusing another one must not make the connection re-check in a loop); a refusal of a younger
// identity drops it once it is this old, so the refusal is never lost.
const MIN_IDENTITY_AGE_MS = 1_000;

const unrefTimer = (fn: () => void, ms: number): void => {
  setTimeout(fn, ms).unref();
};

const connectionKey = (c: ConnectionId) => `${c.kind}/${c.namespace}/${c.name}`;
const idOf = (ref: ConnectionRef): ConnectionId => ({
  kind: ref.kind,
  name: ref.name,
  namespace: ref.kind === 'ClusterRancherConnection' ? '' : ref.namespace,
});

/** createConnectionResolver caches credentials briefly, clients per credential fingerprint, identities per client. */
export function createConnectionResolver(deps: ConnectionResolverDeps): ConnectionResolver {
  const credTtl = deps.credentialsTtlMs ?? 5_000;
  const idTtl = deps.identityTtlMs ?? 300_000;
  const optIn = deps.credentialsOptIn ?? 'optional';
  const policy: EndpointDeps = {
    connections: deps.connections,
    clusterConnections: deps.clusterConnections,
    namespaceLabels: deps.namespaceLabels,
    operatorNamespace: deps.operatorNamespace,
    allowedUrls: deps.allowedUrls ?? [],
    clusterConnectionsEnabled: deps.clusterConnectionsEnabled ?? true,
  };
  const creds = new Map<string, { at: number; value: Credentials | Resolved }>();
  const clients = new Map<string, RancherClient>();
  const identities = new Map<string, { at: number; value: RancherIdentity | Resolved }>();
  const lastGood = new Map<string, Resolved>();
  /** Which connections last resolved to each fingerprint, and each connection's fingerprint and cred key. */
  const users = new Map<string, Map<string, ConnectionId>>();
  const used = new Map<string, { fp: string; credKey: string }>();

  async function credentialsOf(e: Endpoint, key: string): Promise<Credentials | Resolved> {
    const hit = creds.get(key);
    if (hit && deps.now() - hit.at < credTtl) return hit.value;
    const secret = await deps.secrets.read(e.secretNamespace, e.secretName);
    const where = `Secret ${e.secretNamespace}/${e.secretName}`;
    let value: Credentials | Resolved;
    const refused = secret ? credentialsSecretRefusal(secret, optIn, where) : undefined;
    if (!secret) value = fail('CredentialsNotFound', `${where} not found`, false);
    else if (refused) value = fail(refused.reason, refused.message, true);
    else {
      const text = (k: string) => {
        const v = secret.data?.[k];
        return v ? Buffer.from(v, 'base64').toString('utf8').trim() : undefined;
      };
      const accessKey = text(e.accessKeyKey);
      const secretKey = text(e.secretKeyKey);
      value =
        accessKey && secretKey
          ? { accessKey, secretKey }
          : fail(
              'CredentialsInvalid',
              `${where} must hold data keys ${e.accessKeyKey} and ${e.secretKeyKey}`,
              false,
            );
    }
    creds.set(key, { at: deps.now(), value });
    return value;
  }

  // Referenced CA bundles are read again after the credentials' cache time (they are not watched).
  const cas = createCaSource({ ...deps, ttlMs: credTtl });

  const setTimer = deps.setTimer ?? unrefTimer;
  /** Fingerprints whose young identity is due to be dropped. */
  const dropsDue = new Set<string>();

  /** dropIdentity forgets a verified identity after a refusal and tells the connections that used it. */
  function dropIdentity(fp: string): void {
    const hit = identities.get(fp);
    if (!hit || !('accountId' in hit.value)) return;
    const age = deps.now() - hit.at;
    if (age >= MIN_IDENTITY_AGE_MS) {
      forgetIdentity(fp);
      return;
    }
    if (dropsDue.has(fp)) return;
    dropsDue.add(fp);
    setTimer(() => {
      dropsDue.delete(fp);
      // A newer identity (asked again meanwhile) already answers for this refusal.
      if (identities.get(fp) === hit) forgetIdentity(fp);
    }, MIN_IDENTITY_AGE_MS - age);
  }

  function forgetIdentity(fp: string): void {
    identities.delete(fp);
    for (const conn of users.get(fp)?.values() ?? []) deps.onInvalidated?.(conn);
  }

  function clientFor(
    e: Endpoint,
    c: Credentials,
    caBundle: string | undefined,
  ): { client: RancherClient; fp: string } | Resolved {
    const fp = createHash('sha256')
      .update([e.url, e.version, caBundle ?? '', c.accessKey, c.secretKey].join('\n'))
      .digest('hex');
    let client = clients.get(fp);
    if (!client) {
      try {
        const raw = deps.makeClient({ url: e.url, version: e.version, caBundle, credentials: c });
        client = watchCredentials(raw, () => dropIdentity(fp));
      } catch {
        // The message names no URL: one that the client refuses may carry anything.
        const message =
          'spec.url is not a usable Rancher URL: it must be http(s), without user info or query';
        return fail('InvalidURL', message, true);
      }
      clients.set(fp, client);
    }
    return { client, fp };
  }

  async function identityOf(
    client: RancherClient,
    fp: string,
    e: Endpoint,
  ): Promise<RancherIdentity | Resolved> {
    const hit = identities.get(fp);
    const ttl = hit && 'accountId' in hit.value ? idTtl : 10_000;
    if (hit && deps.now() - hit.at < ttl) return hit.value;
    let value: RancherIdentity | Resolved;
    try {
      value = await client.identity();
    } catch (err) {
      const f = describeRancherFailure(
        err,
        `Rancher at ${e.url} (credentials in Secret ${e.secretNamespace}/${e.secretName})`,
      );
      value = fail(f.reason, f.message, !f.retryable);
    }
    identities.set(fp, { at: deps.now(), value });
    return value;
  }

  /** remember records the connection's fingerprint; a change seen by an ApiKey pass re-checks the connection. */
  function remember(conn: ConnectionId, fp: string, credKey: string, notify: boolean): void {
    const key = connectionKey(conn);
    const before = used.get(key);
    if (before?.fp === fp) return;
    if (before) users.get(before.fp)?.delete(key);
    if (before && notify) deps.onInvalidated?.(conn);
    used.set(key, { fp, credKey });
    const set = users.get(fp) ?? new Map<string, ConnectionId>();
    set.set(key, conn);
    users.set(fp, set);
  }

  return {
    refFor: connectionRefOf,
    invalidate(ref) {
      const u = used.get(connectionKey(idOf(ref)));
      if (!u) return;
      identities.delete(u.fp);
      creds.delete(u.credKey);
    },
    async resolve(ref, opts) {
      // The environment is part of the fallback's key: a deletion never borrows another environment's verdict.
      const id = `${ref.kind}/${ref.namespace}/${ref.name}/${ref.environment ?? ''}`;
      const e = await endpointOf(ref, opts?.anyNamespace ?? false, policy);
      if ('view' in e) return opts?.forDeletion ? (lastGood.get(id) ?? e) : e;
      const credKey = `${e.secretNamespace}/${e.secretName}/${e.accessKeyKey}/${e.secretKeyKey}`;
      const c = await credentialsOf(e, credKey);
      if ('view' in c) return opts?.forDeletion ? (lastGood.get(id) ?? c) : c;
      const ca = await cas.of(e);
      if (typeof ca === 'object') {
        const refused = fail(ca.reason, ca.message, ca.terminal);
        return opts?.forDeletion ? (lastGood.get(id) ?? refused) : refused;
      }
      const made = clientFor(e, c, ca);
      if ('view' in made) return made;
      const { client, fp } = made;
      remember(idOf(ref), fp, credKey, !opts?.anyNamespace);
      const identity = await identityOf(client, fp, e);
      if ('view' in identity) return identity;
      const resolved: Resolved = {
        view: {
          ok: true,
          url: e.url,
          canSupplyValues: identity.canSupplyValues,
          accountId: identity.accountId,
        },
        client,
        identity,
        url: e.url,
      };
      lastGood.set(id, resolved);
      return resolved;
    },
  };
}
