import { createHash } from 'node:crypto';
import type { ApiKey } from '../api/apikey.ts';
import { matchesSelector } from '../api/common.ts';
import { ClusterRancherConnectionSchema, RancherConnectionSchema } from '../api/connection.ts';
import type { SecretStore } from '../kube/secrets.ts';
import type { ApiVersion, RancherClient, RancherClientOptions, RancherIdentity } from '../rancher/index.ts';
import type { ConnectionView } from './model.ts';
import { describeRancherFailure } from './rancher-failure.ts';

/** ObjectCache is a read-only view of an informer's objects. */
export interface ObjectCache {
  get(name: string, namespace?: string): unknown;
}

/** ConnectionRef names a connection as an ApiKey refers to it. */
export interface ConnectionRef {
  kind: 'RancherConnection' | 'ClusterRancherConnection';
  name: string;
  namespace: string;
}

/** Resolved is a usable Rancher client for a connection, or the reason there is none. */
export interface Resolved {
  view: ConnectionView;
  client?: RancherClient;
  identity?: RancherIdentity;
  url?: string;
}

/** ConnectionResolver turns connection references into Rancher clients, enforcing namespace rules. */
export interface ConnectionResolver {
  /** resolve checks the connection exists, allows the namespace, has credentials that Rancher accepts. */
  resolve(ref: ConnectionRef, opts?: { forDeletion?: boolean; anyNamespace?: boolean }): Promise<Resolved>;
  /** refFor returns the connection reference of an ApiKey. */
  refFor(apiKey: ApiKey): ConnectionRef;
}

/** ConnectionResolverDeps are the effects the resolver needs. */
export interface ConnectionResolverDeps {
  connections: ObjectCache;
  clusterConnections: ObjectCache;
  secrets: SecretStore;
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  makeClient(opts: RancherClientOptions): RancherClient;
  operatorNamespace: string;
  now(): number;
  credentialsTtlMs?: number;
  identityTtlMs?: number;
}

interface Endpoint {
  url: string;
  version: ApiVersion;
  caBundle?: string;
  secretNamespace: string;
  secretName: string;
  accessKeyKey: string;
  secretKeyKey: string;
}

const fail = (reason: string, message: string, terminal: boolean): Resolved => ({
  view: { ok: false, reason, message, terminal },
});

/** createConnectionResolver caches credentials briefly, clients per credential fingerprint, identities per client. */
export function createConnectionResolver(deps: ConnectionResolverDeps): ConnectionResolver {
  const credTtl = deps.credentialsTtlMs ?? 5_000;
  const idTtl = deps.identityTtlMs ?? 300_000;
  const creds = new Map<string, { at: number; value: { accessKey: string; secretKey: string } | Resolved }>();
  const clients = new Map<string, RancherClient>();
  const identities = new Map<string, { at: number; value: RancherIdentity | Resolved }>();
  const lastGood = new Map<string, Resolved>();

  async function endpointOf(ref: ConnectionRef, anyNamespace: boolean): Promise<Endpoint | Resolved> {
    if (ref.kind === 'RancherConnection') {
      const raw = deps.connections.get(ref.name, ref.namespace);
      if (raw === undefined) {
        return fail(
          'ConnectionNotFound',
          `RancherConnection ${ref.name} not found in namespace ${ref.namespace}`,
          false,
        );
      }
      const parsed = RancherConnectionSchema.safeParse(raw);
      if (!parsed.success) return fail('InvalidConnection', `RancherConnection ${ref.name} is invalid`, true);
      const s = parsed.data.spec;
      return { ...s, ...credsOf(s.credentialsSecretRef), secretNamespace: ref.namespace };
    }
    const raw = deps.clusterConnections.get(ref.name);
    if (raw === undefined)
      return fail('ConnectionNotFound', `ClusterRancherConnection ${ref.name} not found`, false);
    const parsed = ClusterRancherConnectionSchema.safeParse(raw);
    if (!parsed.success)
      return fail('InvalidConnection', `ClusterRancherConnection ${ref.name} is invalid`, true);
    const s = parsed.data.spec;
    const allowed = s.allowedNamespaces;
    const byName = allowed?.names?.includes(ref.namespace) ?? false;
    const bySelector =
      !anyNamespace && allowed?.selector
        ? matchesSelector(allowed.selector, await deps.namespaceLabels(ref.namespace))
        : false;
    if (!anyNamespace && !byName && !bySelector) {
      const message = `ClusterRancherConnection ${ref.name} does not allow namespace ${ref.namespace} (spec.allowedNamespaces)`;
      return fail('NamespaceNotAllowed', message, true);
    }
    if (s.credentialsSecretRef.namespace !== deps.operatorNamespace) {
      const message =
        `ClusterRancherConnection ${ref.name} refers to a Secret in namespace ${s.credentialsSecretRef.namespace}; ` +
        `credentials of cluster connections must live in the operator namespace ${deps.operatorNamespace}`;
      return fail('CredentialsNamespaceNotAllowed', message, true);
    }
    return { ...s, ...credsOf(s.credentialsSecretRef), secretNamespace: s.credentialsSecretRef.namespace };
  }

  async function credentialsOf(e: Endpoint): Promise<{ accessKey: string; secretKey: string } | Resolved> {
    const key = `${e.secretNamespace}/${e.secretName}/${e.accessKeyKey}/${e.secretKeyKey}`;
    const hit = creds.get(key);
    if (hit && deps.now() - hit.at < credTtl) return hit.value;
    const secret = await deps.secrets.read(e.secretNamespace, e.secretName);
    const text = (k: string) => {
      const v = secret?.data?.[k];
      return v ? Buffer.from(v, 'base64').toString('utf8').trim() : undefined;
    };
    const accessKey = text(e.accessKeyKey);
    const secretKey = text(e.secretKeyKey);
    const where = `Secret ${e.secretNamespace}/${e.secretName}`;
    const value: { accessKey: string; secretKey: string } | Resolved = !secret
      ? fail('CredentialsNotFound', `${where} not found`, false)
      : !accessKey || !secretKey
        ? fail(
            'CredentialsInvalid',
            `${where} must hold data keys ${e.accessKeyKey} and ${e.secretKeyKey}`,
            false,
          )
        : { accessKey, secretKey };
    creds.set(key, { at: deps.now(), value });
    return value;
  }

  function clientFor(
    e: Endpoint,
    c: { accessKey: string; secretKey: string },
  ): { client: RancherClient; fp: string } {
    const fp = createHash('sha256')
      .update([e.url, e.version, e.caBundle ?? '', c.accessKey, c.secretKey].join('\n'))
      .digest('hex');
    let client = clients.get(fp);
    if (!client) {
      client = deps.makeClient({ url: e.url, version: e.version, caBundle: e.caBundle, credentials: c });
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

  return {
    refFor(apiKey) {
      return { ...apiKey.spec.connectionRef, namespace: apiKey.metadata.namespace ?? '' };
    },
    async resolve(ref, opts) {
      const id = `${ref.kind}/${ref.namespace}/${ref.name}`;
      const e = await endpointOf(ref, opts?.anyNamespace ?? false);
      if ('view' in e) return opts?.forDeletion ? (lastGood.get(id) ?? e) : e;
      const c = await credentialsOf(e);
      if ('view' in c) return opts?.forDeletion ? (lastGood.get(id) ?? c) : c;
      const { client, fp } = clientFor(e, c);
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

function credsOf(r: { name: string; accessKeyKey: string; secretKeyKey: string }) {
  return { secretName: r.name, accessKeyKey: r.accessKeyKey, secretKeyKey: r.secretKeyKey };
}
