import type { ApiKey } from '../../api/apikey.ts';
import type { RancherClient, RancherIdentity } from '../../rancher/index.ts';
import type { ConnectionView } from '../apikey/model.ts';

/** ObjectCache is a read-only view of an informer's objects. */
export interface ObjectCache {
  get(name: string, namespace?: string): unknown;
}

/** ConnectionRef names a connection as an ApiKey refers to it. */
export interface ConnectionRef {
  kind: 'RancherConnection' | 'ClusterRancherConnection';
  name: string;
  namespace: string;
  /** The ApiKey's spec.environment; undefined for an account key (checked against a cluster connection's policy). */
  environment?: string;
}

/** ConnectionId names a connection itself: namespace '' for a ClusterRancherConnection. */
export type ConnectionId = Omit<ConnectionRef, 'environment'>;

/** Resolved is a usable Rancher client for a connection, or the reason there is none. */
export interface Resolved {
  view: ConnectionView;
  client?: RancherClient;
  identity?: RancherIdentity;
  url?: string;
}

/** ConnectionResolver turns connection references into Rancher clients, enforcing namespace rules. */
export interface ConnectionResolver {
  /**
   * resolve checks the connection exists, allows the namespace (and, for a cluster connection, the ref's
   * environment or account key), has credentials that Rancher accepts. `anyNamespace` is the connection
   * controller's own check: namespace and environment rules do not apply.
   */
  resolve(ref: ConnectionRef, opts?: { forDeletion?: boolean; anyNamespace?: boolean }): Promise<Resolved>;
  /** refFor returns the connection reference of an ApiKey, its environment included. */
  refFor(apiKey: ApiKey): ConnectionRef;
  /** invalidate drops the cached credentials and identity of a connection: the next resolve asks again. */
  invalidate(ref: ConnectionRef): void;
}
