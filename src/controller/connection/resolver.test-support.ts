import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { SecretStore } from '../../kube/secrets.ts';
import { type RancherClient, type RancherClientOptions, RancherError } from '../../rancher/index.ts';
import {
  type ConnectionId,
  type ConnectionRef,
  createConnectionResolver,
  type Resolved,
} from './resolver.ts';

/** b64 encodes Secret data. */
export const b64 = (s: string) => Buffer.from(s).toString('base64');
/** OPERATOR_NS is the operator namespace of the fixture. */
export const OPERATOR_NS = 'ops';

/** Fixture is what the fakes record and serve. */
export interface Fixture {
  secrets: Map<string, V1Secret>;
  configMaps: Map<string, V1ConfigMap>;
  configMapReads: number;
  made: RancherClientOptions[];
  identityCalls: number;
  identityFails: boolean;
  reads: number;
  invalidated: ConnectionId[];
  clock: { t: number };
  timers: { fn: () => void; ms: number }[];
}

function fakeClient(f: Fixture): RancherClient {
  const refuse = async (): Promise<never> => {
    throw new RancherError('Unauthorized', 'list keys: HTTP 401', { status: 401 });
  };
  return {
    identity: async () => {
      f.identityCalls++;
      if (f.identityFails) throw new RancherError('Unauthorized', 'identity: HTTP 401', { status: 401 });
      return { accountId: '1a1', accountKind: 'admin', canSupplyValues: true };
    },
    getKey: async () => undefined,
    findKeyByPublicValue: async () => undefined,
    listKeys: refuse,
    createKey: refuse,
    updateKey: refuse,
    activateKey: refuse,
    deactivateKey: refuse,
    removeKey: refuse,
    purgeKey: refuse,
    waitForTransition: async () => undefined,
    readKeyAs: async () => 'unauthenticated',
    verifyKey: async () => false,
    close: async () => undefined,
  };
}

/** setup builds a resolver over fake caches, Secrets, ConfigMaps and Rancher clients. */
export function setup(opts: {
  connections?: Record<string, unknown>;
  clusterConnections?: Record<string, unknown>;
  credentialsOptIn?: 'optional' | 'required';
  allowedUrls?: string[];
  makeClientThrows?: boolean;
  namespaceLabels?: Record<string, Record<string, string>>;
  clusterConnectionsEnabled?: boolean;
}) {
  const f: Fixture = {
    secrets: new Map(),
    configMaps: new Map(),
    configMapReads: 0,
    made: [],
    identityCalls: 0,
    identityFails: false,
    reads: 0,
    invalidated: [],
    clock: { t: 1_000_000 },
    timers: [],
  };
  const store: SecretStore = {
    read: async (ns, name) => {
      f.reads++;
      return f.secrets.get(`${ns}/${name}`);
    },
    create: async (s) => s,
    replace: async (s) => s,
    delete: async () => undefined,
  };
  const resolver = createConnectionResolver({
    connections: { get: (name, ns) => opts.connections?.[`${ns}/${name}`] },
    clusterConnections: { get: (name) => opts.clusterConnections?.[name] },
    secrets: store,
    configMaps: {
      read: async (ns, name) => {
        f.configMapReads++;
        return f.configMaps.get(`${ns}/${name}`);
      },
    },
    namespaceLabels: async (name) => opts.namespaceLabels?.[name] ?? {},
    makeClient: (o) => {
      if (opts.makeClientThrows) throw new RancherError('Validation', 'bad url');
      f.made.push(o);
      return fakeClient(f);
    },
    operatorNamespace: OPERATOR_NS,
    now: () => f.clock.t,
    credentialsOptIn: opts.credentialsOptIn,
    allowedUrls: opts.allowedUrls,
    clusterConnectionsEnabled: opts.clusterConnectionsEnabled,
    onInvalidated: (c) => f.invalidated.push(c),
    setTimer: (fn, ms) => f.timers.push({ fn, ms }),
  });
  return { f, resolver };
}

/** creds is a credentials Secret in a namespace. */
export const creds = (
  ns: string,
  extra: Partial<V1Secret> = {},
  ak = 'AK-1',
  sk = 'SK-SECRET-1',
): V1Secret => ({
  metadata: { name: 'creds', namespace: ns, resourceVersion: '1', ...extra.metadata },
  type: extra.type ?? 'Opaque',
  data: { accessKey: b64(ak), secretKey: b64(sk) },
});
/** namespaced is RancherConnection team-b/rancher. */
export const namespaced = (url = 'https://rancher.example.com') => ({
  metadata: { name: 'rancher', namespace: 'team-b', uid: 'c1', generation: 1 },
  spec: { url, credentialsSecretRef: { name: 'creds' } },
});
/** cluster is ClusterRancherConnection shared, allowing team-b. */
export const cluster = (spec: Record<string, unknown> = {}) => ({
  metadata: { name: 'shared', uid: 'c2', generation: 1 },
  spec: {
    url: 'https://rancher.example.com',
    credentialsSecretRef: { name: 'creds', namespace: OPERATOR_NS },
    allowedNamespaces: { names: ['team-b'] },
    ...spec,
  },
});
/** nsRef refers to the namespaced connection from team-b. */
export const nsRef: ConnectionRef = { kind: 'RancherConnection', name: 'rancher', namespace: 'team-b' };
/** clusterRef refers to the cluster connection from team-b. */
export const clusterRef = (environment?: string): ConnectionRef => ({
  kind: 'ClusterRancherConnection',
  name: 'shared',
  namespace: 'team-b',
  ...(environment ? { environment } : {}),
});
/** refusal is the refusal view of a Resolved, or undefined when it is usable. */
export const refusal = (r: Resolved) => (r.view.ok ? undefined : r.view);
