import type { ApiKey } from '../api/apikey.ts';

/**
 * markerToken is the ownership marker this operator writes into every Rancher key's description:
 * unique per ApiKey (its uid), so keys from lost creates, replaced keys and orphans can be found.
 */
export function markerToken(uid: string): string {
  return `apikey-uid:${uid}`;
}

/** rancherDescription returns the Rancher description: the user's text followed by the ownership marker. */
export function rancherDescription(apiKey: ApiKey): string {
  const { namespace, name, uid } = apiKey.metadata;
  const marker = `[managed by rancher-apikey-operator: ${namespace}/${name} ${markerToken(uid)}]`;
  const text = apiKey.spec.description?.trim();
  return text ? `${text} ${marker}` : marker;
}

/** ANY_MARKER_FILTER is the Rancher list filter that selects the keys carrying any ApiKey's marker. */
export const ANY_MARKER_FILTER: Readonly<Record<string, string>> = {
  description_like: `%${markerToken('')}%`,
};

/** markerFilter returns the Rancher list filter that selects the keys carrying an ApiKey's marker. */
export function markerFilter(uid: string): Record<string, string> {
  return { description_like: `%${markerToken(uid)}%` };
}

// The marker the operator writes always ends the description. Only that trailing marker counts: text a
// user put earlier in the description (the CRD refuses marker text there, but an older CRD may not) never
// names an owner.
const TRAILING_MARKER =
  /\[managed by rancher-apikey-operator: ([a-z0-9.-]+\/[a-z0-9.-]+) apikey-uid:([0-9a-f-]{8,64})\]$/;

/** uidFromDescription extracts the ApiKey uid from the operator-written marker that ends a description. */
export function uidFromDescription(description: string | null): string | undefined {
  return description?.match(TRAILING_MARKER)?.[2];
}

/** releasedDescription is the description left on a key whose ApiKey was deleted with deletionPolicy Orphan. */
export function releasedDescription(apiKey: ApiKey): string {
  const { namespace, name } = apiKey.metadata;
  const note = `[released by rancher-apikey-operator: ${namespace}/${name}]`;
  const text = apiKey.spec.description?.trim();
  return text ? `${text} ${note}` : note;
}

/** ownerFromDescription extracts `namespace/name` of the ApiKey named in the trailing, operator-written marker. */
export function ownerFromDescription(description: string | null): string | undefined {
  return description?.match(TRAILING_MARKER)?.[1];
}
