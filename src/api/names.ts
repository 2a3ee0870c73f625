/** GROUP is the API group of every custom resource this operator serves. */
export const GROUP = 'rancher.keyops.dev';
/** VERSION is the served and stored API version. */
export const VERSION = 'v1alpha1';
/** API_VERSION is `group/version`, as written in manifests. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** FIELD_MANAGER names the operator in managedFields, User-Agent and Event reporting. */
export const FIELD_MANAGER = 'rancher-apikey-operator';
/** FINALIZER guards every ApiKey until its Rancher key is retired per its deletion policy. */
export const FINALIZER = `${GROUP}/finalizer`;

/** Annotations the operator reads or writes; values never hold secrets. */
export const ANNOTATIONS = {
  paused: `${GROUP}/paused`,
  reconcileRequestedAt: `${GROUP}/reconcile-requested-at`,
  rotateRequestedAt: `${GROUP}/rotate-requested-at`,
  /** On the output Secret: the publicValue (an access key id, not a secret) the Secret's pair belongs to. */
  publicValue: `${GROUP}/public-value`,
  /** On the output Secret: SHA-256 digest of the secret value, to detect tampering without a copy of it. */
  secretDigest: `${GROUP}/secret-digest`,
  /** On the output Secret: the label keys applied from spec.secret.labels (keys only), so removed ones go. */
  managedLabels: `${GROUP}/managed-labels`,
  /** On the output Secret: the annotation keys applied from spec.secret.annotations (keys only). */
  managedAnnotations: `${GROUP}/managed-annotations`,
  /** On a retained output Secret (no owner reference): the uid of the ApiKey that manages it. */
  apiKeyUid: `${GROUP}/apikey-uid`,
  /** On a consumer's pod template: the publicValue of the rotation it was restarted for (a rollout restart). */
  restartedFor: `${GROUP}/restarted-for`,
  /** On a shard's Lease: the ApiKey label selector the shard watches (empty: every ApiKey). */
  shardLabelSelector: `${GROUP}/shard-label-selector`,
  /** On a shard's Lease: the namespaces the shard watches, comma-separated (empty: all). */
  shardNamespaces: `${GROUP}/shard-namespaces`,
} as const;

/** LABELS the operator sets on the Secrets it owns; the Secret informer selects on managedBy. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  apiKeyName: `${GROUP}/apikey`,
} as const;

/**
 * CREDENTIALS are the opt-in marks of a Secret a connection may read Rancher credentials from: the label
 * (value "true") or the Secret type.
 */
export const CREDENTIALS = {
  label: `${GROUP}/credentials`,
  labelValue: 'true',
  secretType: `${GROUP}/credentials`,
} as const;

/** MANAGED_BY_VALUE is the managed-by label value on owned Secrets. */
export const MANAGED_BY_VALUE = 'rancher-apikey-operator';

/** KINDS lists the served kinds with their plural resource names. */
export const KINDS = {
  ApiKey: { kind: 'ApiKey', plural: 'apikeys', singular: 'apikey', scope: 'Namespaced' },
  RancherConnection: {
    kind: 'RancherConnection',
    plural: 'rancherconnections',
    singular: 'rancherconnection',
    scope: 'Namespaced',
  },
  ClusterRancherConnection: {
    kind: 'ClusterRancherConnection',
    plural: 'clusterrancherconnections',
    singular: 'clusterrancherconnection',
    scope: 'Cluster',
  },
} as const;
