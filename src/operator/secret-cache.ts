import type { KubernetesObject, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { ANNOTATIONS, GROUP, LABELS } from '../api/names.ts';
import { intern } from './resource-cache.ts';

/**
 * CACHE_STRIPPED marks a Secret in the informer cache whose data and annotations were dropped: it exists only
 * in the cached copy (a live Secret carrying it is stripped too), and the controller reads such a Secret live
 * (its pair does not read as intact).
 */
export const CACHE_STRIPPED = `${GROUP}/cache-stripped`;

/** MAX_CACHED_SECRET_BYTES bounds the data, labels and annotations kept for one ApiKey-controlled Secret. */
export const MAX_CACHED_SECRET_BYTES = 64 * 1024;

// The labels the operator itself sets (secret-data.ts), the only ones a stripped copy keeps.
const KEPT_LABELS = [LABELS.managedBy, LABELS.apiKeyName, `${LABELS.apiKeyName}-role`];

type Strings = Record<string, string>;
type SecretLike = KubernetesObject & { type?: string; data?: Strings };

function strings(value: unknown): Strings | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

function bytesOf(record: Strings | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(record ?? {})) n += k.length + v.length;
  return n;
}

/** apiKeyControllerOf returns the Secret's controller reference when it is an ApiKey of this operator's group. */
function apiKeyControllerOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  const ref = meta?.ownerReferences?.find((r) => r.controller === true);
  if (ref?.kind !== 'ApiKey' || !ref.apiVersion?.startsWith(`${GROUP}/`)) return undefined;
  return ref;
}

function baseMeta(meta: V1ObjectMeta | undefined): V1ObjectMeta {
  // Only defined fields: an `undefined` property costs a slot in every cached Secret.
  const out: V1ObjectMeta = {};
  if (meta?.name !== undefined) out.name = meta.name;
  if (meta?.namespace !== undefined) out.namespace = intern(meta.namespace);
  if (meta?.uid !== undefined) out.uid = meta.uid;
  if (meta?.resourceVersion !== undefined) out.resourceVersion = meta.resourceVersion;
  if (meta?.deletionTimestamp !== undefined) out.deletionTimestamp = meta.deletionTimestamp;
  const ref = meta?.ownerReferences?.find((r) => r.controller === true);
  if (ref) {
    const owner: V1OwnerReference = {
      apiVersion: intern(ref.apiVersion),
      kind: intern(ref.kind),
      name: ref.name,
      uid: ref.uid,
      controller: true,
    };
    if (ref.blockOwnerDeletion !== undefined) owner.blockOwnerDeletion = ref.blockOwnerDeletion;
    out.ownerReferences = [owner];
  }
  return out;
}

/**
 * cacheableSecret is the Secret informer's transform: it keeps data, labels and annotations only for a
 * Secret controlled by an ApiKey whose data, labels and annotations are small; every other Secret (anyone
 * may label one "managed-by") is cached as metadata only, with data dropped and CACHE_STRIPPED set. Pure,
 * total and idempotent; managedFields, finalizers and creationTimestamp are never kept, absent fields stay
 * absent and repeating values (namespace, type, owner kind, label values) share one string.
 */
export function cacheableSecret(obj: KubernetesObject): KubernetesObject {
  const secret: SecretLike = obj;
  const meta = secret.metadata;
  const labels = strings(meta?.labels);
  const annotations = strings(meta?.annotations);
  const data = strings(secret.data);
  const size = bytesOf(data) + bytesOf(labels) + bytesOf(annotations) + (secret.type?.length ?? 0);
  // A retained output Secret (spec.secret.retention Retain) has no owner reference, only the apikey-uid mark.
  const retained =
    annotations?.[ANNOTATIONS.apiKeyUid] !== undefined && !meta?.ownerReferences?.some((r) => r.controller);
  const keep =
    (apiKeyControllerOf(meta) !== undefined || retained) &&
    size <= MAX_CACHED_SECRET_BYTES &&
    annotations?.[CACHE_STRIPPED] === undefined;
  if (keep) {
    const full: SecretLike = { metadata: { ...baseMeta(meta), labels: sharedValues(labels), annotations } };
    if (secret.apiVersion !== undefined) full.apiVersion = intern(secret.apiVersion);
    if (secret.kind !== undefined) full.kind = intern(secret.kind);
    if (secret.type !== undefined) full.type = intern(secret.type);
    if (data !== undefined) full.data = data;
    return full;
  }
  const kept = Object.fromEntries(
    KEPT_LABELS.flatMap((k) => (labels?.[k] !== undefined ? [[k, intern(labels[k])]] : [])),
  );
  const stripped: SecretLike = {
    metadata: { ...baseMeta(meta), labels: kept, annotations: { [CACHE_STRIPPED]: 'true' } },
  };
  if (secret.apiVersion !== undefined) stripped.apiVersion = intern(secret.apiVersion);
  if (secret.kind !== undefined) stripped.kind = intern(secret.kind);
  return stripped;
}

/** sharedValues shares label values (managed-by, ...) with other cached Secrets; unique ones stay as they are. */
function sharedValues(record: Strings | undefined): Strings | undefined {
  if (record === undefined) return undefined;
  const out: Strings = {};
  for (const [k, v] of Object.entries(record)) out[k] = intern(v);
  return out;
}
