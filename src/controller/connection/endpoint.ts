import { matchesSelector } from '../../api/common.ts';
import { ClusterRancherConnectionSchema, RancherConnectionSchema } from '../../api/connection.ts';
import type { ApiVersion } from '../../rancher/index.ts';
import type { CaBundleRef } from './ca-bundle.ts';
import {
  environmentRefusal,
  urlAllowed,
  urlNotAllowed,
  urlPartsOf,
  urlRefusal,
  urlScopeRefusal,
} from './policy.ts';
import type { ConnectionRef, ObjectCache, Resolved } from './types.ts';

/** Endpoint is a usable connection spec: where Rancher is and which Secret holds its credentials. */
export interface Endpoint {
  url: string;
  version: ApiVersion;
  caBundle?: string;
  /** Where more CA certificates are read (a namespaced connection's own namespace). */
  caBundleRef?: CaBundleRef;
  secretNamespace: string;
  secretName: string;
  accessKeyKey: string;
  secretKeyKey: string;
}

/** EndpointDeps are the caches and settings endpointOf reads. */
export interface EndpointDeps {
  connections: ObjectCache;
  clusterConnections: ObjectCache;
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  operatorNamespace: string;
  /** URL prefixes namespaced RancherConnections may use; empty = any. */
  allowedUrls: readonly string[];
  /** False when the operator serves no ClusterRancherConnection (CLUSTER_CONNECTIONS=false). */
  clusterConnectionsEnabled: boolean;
}

/** refusal is a Resolved without a client. */
export const refusal = (reason: string, message: string, terminal: boolean): Resolved => ({
  view: { ok: false, reason, message, terminal },
});
const fail = refusal;

/**
 * endpointOf reads a connection from the caches and applies every rule that needs no Secret and no Rancher:
 * the namespace and environment policy of a cluster connection, where its Secret lives, and the URL rules.
 */
export async function endpointOf(
  ref: ConnectionRef,
  anyNamespace: boolean,
  deps: EndpointDeps,
): Promise<Endpoint | Resolved> {
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
    const what = `RancherConnection ${ref.namespace}/${ref.name}`;
    const bad = urlRefusal(s.url, what);
    if (bad) return fail(bad.reason, bad.message, true);
    if (!urlAllowed(s.url, deps.allowedUrls)) {
      const refused = urlNotAllowed(what, deps.allowedUrls);
      return fail(refused.reason, refused.message, true);
    }
    const scope = urlScopeRefusal(s.url, s.version, ref.environment, what);
    if (scope) return fail(scope.reason, scope.message, true);
    const caBundleRef = s.caBundleRef && { ...s.caBundleRef, namespace: ref.namespace };
    return { ...s, caBundleRef, ...credsOf(s.credentialsSecretRef), secretNamespace: ref.namespace };
  }
  if (!deps.clusterConnectionsEnabled) {
    const message = `ClusterRancherConnection ${ref.name} cannot be used: this operator serves no ClusterRancherConnections (CLUSTER_CONNECTIONS=false); use a RancherConnection in namespace ${ref.namespace}`;
    return fail('ClusterConnectionsDisabled', message, true);
  }
  const raw = deps.clusterConnections.get(ref.name);
  if (raw === undefined)
    return fail('ConnectionNotFound', `ClusterRancherConnection ${ref.name} not found`, false);
  const parsed = ClusterRancherConnectionSchema.safeParse(raw);
  if (!parsed.success)
    return fail('InvalidConnection', `ClusterRancherConnection ${ref.name} is invalid`, true);
  const s = parsed.data.spec;
  const what = `ClusterRancherConnection ${ref.name}`;
  const allowed = s.allowedNamespaces;
  const byName = allowed?.names?.includes(ref.namespace) ?? false;
  const bySelector =
    !anyNamespace && allowed?.selector
      ? matchesSelector(allowed.selector, await deps.namespaceLabels(ref.namespace))
      : false;
  if (!anyNamespace && !byName && !bySelector) {
    const message = `${what} does not allow namespace ${ref.namespace} (spec.allowedNamespaces)`;
    return fail('NamespaceNotAllowed', message, true);
  }
  if (s.credentialsSecretRef.namespace !== deps.operatorNamespace) {
    const message =
      `${what} refers to a Secret in namespace ${s.credentialsSecretRef.namespace}; ` +
      `credentials of cluster connections must live in the operator namespace ${deps.operatorNamespace}`;
    return fail('CredentialsNamespaceNotAllowed', message, true);
  }
  if (s.caBundleRef && s.caBundleRef.namespace !== deps.operatorNamespace) {
    const message =
      `${what} reads spec.caBundleRef from namespace ${s.caBundleRef.namespace}; the CA of a cluster ` +
      `connection decides whom its credentials are sent to, so it must live in the operator namespace ${deps.operatorNamespace}`;
    return fail('CABundleNamespaceNotAllowed', message, true);
  }
  const bad = urlRefusal(s.url, what);
  if (bad) return fail(bad.reason, bad.message, true);
  const scope = urlScopeRefusal(s.url, s.version, ref.environment, what);
  if (scope) return fail(scope.reason, scope.message, true);
  // An environment URL makes an ApiKey without spec.environment an environment key: the policy checks that.
  const environment = ref.environment ?? urlPartsOf(s.url)?.environment;
  const refused = anyNamespace ? undefined : environmentRefusal(s, environment, what);
  if (refused) return fail(refused.reason, refused.message, true);
  return { ...s, ...credsOf(s.credentialsSecretRef), secretNamespace: s.credentialsSecretRef.namespace };
}

function credsOf(r: { name: string; accessKeyKey: string; secretKeyKey: string }) {
  return { secretName: r.name, accessKeyKey: r.accessKeyKey, secretKeyKey: r.secretKeyKey };
}
