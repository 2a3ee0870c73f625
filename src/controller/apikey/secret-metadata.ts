import type { V1ObjectMeta, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { ApiKey } from '../../api/apikey.ts';
import { ANNOTATIONS, API_VERSION } from '../../api/names.ts';

type Strings = Record<string, string>;

/** Operator-written metadata of the output Secret: what the spec asks for, and what the operator itself sets. */
export interface OwnMetadata {
  /** The user's labels from spec.secret.labels (declarative: removed from the spec, removed from the Secret). */
  userLabels: Strings;
  userAnnotations: Strings;
  /** Labels and annotations only the operator sets; they win over the user's. */
  operatorLabels: Strings;
  operatorAnnotations: Strings;
}

const list = (text: string | undefined): string[] => (text ? text.split(',').filter((k) => k !== '') : []);

function withoutKeys(record: Strings, keys: Iterable<string>): Strings {
  const out = { ...record };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * mergeManaged returns `live` with the keys the operator applied last time (`previous`) but no longer wants
 * removed, the user's keys set and the operator's own keys set on top; keys other tools added stay as they are.
 */
function mergeManaged(live: Strings | undefined, previous: string[], user: Strings, own: Strings): Strings {
  const stale = previous.filter((k) => !(k in user) && !(k in own));
  return { ...withoutKeys(live ?? {}, stale), ...user, ...own };
}

/** managedKeys lists the user's keys the operator tracks (its own keys are not tracked: they are always set). */
function managedKeys(user: Strings, own: Strings): string | undefined {
  const keys = Object.keys(user)
    .filter((k) => !(k in own))
    .sort();
  return keys.length > 0 ? keys.join(',') : undefined;
}

/**
 * mergeMetadata returns the labels and annotations to write: the live ones, minus user keys the operator applied
 * before that are gone from the spec, plus the spec's and the operator's own. The keys applied from the spec are
 * listed in the managed-labels / managed-annotations annotations (keys only, never values).
 */
export function mergeMetadata(
  live: V1ObjectMeta | undefined,
  own: OwnMetadata,
): { labels: Strings; annotations: Strings } {
  const liveAnnotations = live?.annotations ?? {};
  const labels = mergeManaged(
    live?.labels,
    list(liveAnnotations[ANNOTATIONS.managedLabels]),
    own.userLabels,
    own.operatorLabels,
  );
  const tracking: Strings = {};
  const managedLabels = managedKeys(own.userLabels, own.operatorLabels);
  if (managedLabels) tracking[ANNOTATIONS.managedLabels] = managedLabels;
  const ownAnnotations = { ...own.operatorAnnotations, ...tracking };
  const managedAnnotations = managedKeys(own.userAnnotations, {
    ...ownAnnotations,
    [ANNOTATIONS.managedLabels]: '',
    [ANNOTATIONS.managedAnnotations]: '',
  });
  if (managedAnnotations) ownAnnotations[ANNOTATIONS.managedAnnotations] = managedAnnotations;
  // The tracking annotations are the operator's: dropped when nothing is tracked any more.
  const previous = [
    ...list(liveAnnotations[ANNOTATIONS.managedAnnotations]),
    ANNOTATIONS.managedLabels,
    ANNOTATIONS.managedAnnotations,
    ANNOTATIONS.apiKeyUid,
  ];
  const annotations = mergeManaged(liveAnnotations, previous, own.userAnnotations, ownAnnotations);
  return { labels, annotations };
}

/** ownerReferenceOf is the controller reference that makes an ApiKey own (and garbage-collect) a Secret. */
export function ownerReferenceOf(apiKey: ApiKey): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'ApiKey',
    name: apiKey.metadata.name,
    uid: apiKey.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** retains reports whether the ApiKey keeps its Secret when it is deleted (spec.secret.retention Retain). */
export function retains(apiKey: ApiKey): boolean {
  return apiKey.spec.secret?.retention === 'Retain';
}

/**
 * ownerReferencesFor returns the Secret's owner references: with retention Delete this ApiKey is its controller
 * (garbage collection deletes it with the ApiKey); with Retain it has none of this ApiKey's, and the
 * apikey-uid annotation marks it instead. References other tools added stay.
 */
export function ownerReferencesFor(
  apiKey: ApiKey,
  live: V1Secret | undefined,
): V1OwnerReference[] | undefined {
  const others = (live?.metadata?.ownerReferences ?? []).filter((r) => r.uid !== apiKey.metadata.uid);
  const refs = retains(apiKey) ? others : [...others, ownerReferenceOf(apiKey)];
  return refs.length > 0 ? refs : undefined;
}

/** ownerAnnotations are the operator's ownership annotations for its retention: the apikey-uid marker under Retain. */
export function ownerAnnotations(apiKey: ApiKey): Strings {
  return retains(apiKey) ? { [ANNOTATIONS.apiKeyUid]: apiKey.metadata.uid } : {};
}

/**
 * ownerOf returns which ApiKey uid owns a Secret: its controller reference or, for a Secret without a controller,
 * the operator's apikey-uid annotation (retention Retain). Both are writable by whoever may write the Secret, so
 * they only say which ApiKey may manage it, never which Rancher key is whose.
 */
export function ownerOf(secret: V1Secret): { uid: string; describe: string } | undefined {
  const ref = secret.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (ref) return { uid: ref.uid, describe: `${ref.kind}/${ref.name}` };
  const uid = secret.metadata?.annotations?.[ANNOTATIONS.apiKeyUid];
  return uid ? { uid, describe: `ApiKey with uid ${uid} (retained Secret)` } : undefined;
}

/** sameOwnerReferences reports whether two reference lists name the same owners the same way. */
export function sameOwnerReferences(
  a: V1OwnerReference[] | undefined,
  b: V1OwnerReference[] | undefined,
): boolean {
  const key = (r: V1OwnerReference) => `${r.uid}/${r.kind}/${r.name}/${r.controller === true}`;
  const x = (a ?? []).map(key).sort();
  const y = (b ?? []).map(key).sort();
  return x.length === y.length && x.every((k, i) => k === y[i]);
}
