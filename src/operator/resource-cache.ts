import type { KubernetesObject } from '@kubernetes/client-node';
import { GROUP } from '../api/names.ts';

/** CachedMeta is the metadata of a cached custom resource: only what the controllers read. */
interface CachedMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: unknown;
  deletionTimestamp?: unknown;
  finalizers?: string[];
  annotations?: Record<string, string>;
}

type Resource = KubernetesObject & { spec?: unknown; status?: unknown };

/**
 * Values that repeat across objects (condition types, statuses, reasons and messages, kinds, namespaces,
 * connection names, policies, states) are parsed into a fresh string per object; the cache keeps one copy.
 * The table is bounded: once full it only looks up, so unique values (names, ids, times) cannot grow it.
 */
const SHARED_VALUE_KEYS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'type',
  'status',
  'reason',
  'message',
  'deletionPolicy',
  'environment',
  'state',
  'version',
  'event',
  'action',
]);
const MAX_INTERNED = 4096;
const interned = new Map<string, string>();

/** intern returns the cache's copy of a repeating string value (see SHARED_VALUE_KEYS). */
export function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size < MAX_INTERNED) interned.set(value, value);
  return value;
}

/** compact copies JSON data, sharing the repeating string values (SHARED_VALUE_KEYS) with other cached objects. */
function compact(value: unknown, key?: string): unknown {
  if (typeof value === 'string')
    return key !== undefined && SHARED_VALUE_KEYS.has(key) ? intern(value) : value;
  if (Array.isArray(value)) return value.map((v) => compact(v, key));
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = compact(v, k);
  return out;
}

// The operator reads only its own annotations (paused, reconcile- and rotate-requested-at); a
// kubectl.kubernetes.io/last-applied-configuration copy of the whole object is the usual large one.
const OWN_ANNOTATION = `${GROUP}/`;

function ownAnnotations(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  let kept: Record<string, string> | undefined;
  for (const key in annotations) {
    const value = annotations[key];
    if (!key.startsWith(OWN_ANNOTATION) || typeof value !== 'string') continue;
    kept ??= {};
    kept[key] = value;
  }
  return kept;
}

/**
 * cacheableResource is the informer transform of ApiKeys and (Cluster)RancherConnections: it keeps apiVersion,
 * kind, spec, status and the metadata the controllers read (name, namespace, uid, generation,
 * resourceVersion, timestamps, finalizers and the operator's own `rancher.keyops.dev/` annotations), and drops
 * the rest: managedFields, labels (selectors are applied by the apiserver; Secret labels come from
 * spec.secret), other annotations, ownerReferences. Absent fields stay absent (no `undefined` properties),
 * and repeating values are shared (compact), so each cached object is as small as V8 can make it. Pure (up
 * to which equal string is returned), total and idempotent.
 */
export function cacheableResource(obj: KubernetesObject): KubernetesObject {
  const r: Resource = obj;
  const m = r.metadata;
  const meta: CachedMeta = {};
  if (m?.name !== undefined) meta.name = m.name;
  if (m?.namespace !== undefined) meta.namespace = intern(m.namespace);
  if (m?.uid !== undefined) meta.uid = m.uid;
  if (m?.generation !== undefined) meta.generation = m.generation;
  if (m?.resourceVersion !== undefined) meta.resourceVersion = m.resourceVersion;
  if (m?.creationTimestamp !== undefined) meta.creationTimestamp = m.creationTimestamp;
  if (m?.deletionTimestamp !== undefined) meta.deletionTimestamp = m.deletionTimestamp;
  if (m?.finalizers !== undefined && m.finalizers.length > 0) meta.finalizers = m.finalizers.map(intern);
  const annotations = ownAnnotations(m?.annotations);
  if (annotations !== undefined) meta.annotations = annotations;
  const out: Resource = { metadata: meta as KubernetesObject['metadata'] };
  if (r.apiVersion !== undefined) out.apiVersion = intern(r.apiVersion);
  if (r.kind !== undefined) out.kind = intern(r.kind);
  if (r.spec !== undefined) out.spec = compact(r.spec);
  if (r.status !== undefined) out.status = compact(r.status);
  return out;
}
