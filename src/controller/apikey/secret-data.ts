import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { ApiKey } from '../../api/apikey.ts';
import { ANNOTATIONS, API_VERSION, LABELS, MANAGED_BY_VALUE } from '../../api/names.ts';
import type { SecretView, StagingView } from './model.ts';

/** KeyPair is a Rancher key's two values; only Secret.data and the create call ever see secretValue. */
export interface KeyPair {
  publicValue: string;
  secretValue: string;
}

/** secretDigest is the tamper-evidence digest recorded in an annotation (one-way; not the value). */
export function secretDigest(secretValue: string): string {
  return `sha256:${createHash('sha256').update(secretValue, 'utf8').digest('hex')}`;
}

/** secretNameOf returns the output Secret name: spec.secret.name or the ApiKey name. */
export function secretNameOf(apiKey: ApiKey): string {
  return apiKey.spec.secret?.name ?? apiKey.metadata.name;
}

/**
 * labelValue fits an object name (up to 253 characters) into a label value (at most 63): names that fit
 * are kept; longer ones are cut and suffixed with a hash so they stay unique. Owner references, not this
 * label, identify the ApiKey.
 */
export function labelValue(name: string): string {
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 10);
  return `${name.slice(0, 52).replace(/[-.]+$/, '')}-${hash}`;
}

/** stagingNameOf names the rotation staging Secret, which holds the next pair until it is promoted. */
export function stagingNameOf(apiKey: ApiKey): string {
  return `apikey-rotation-${apiKey.metadata.uid}`;
}

/** buildStagingSecret returns the staging Secret for the next pair: owned, labelled, never mounted by consumers. */
export function buildStagingSecret(apiKey: ApiKey, pair: KeyPair, live?: V1Secret): V1Secret {
  const s = buildSecret(apiKey, '', pair, live);
  return {
    ...s,
    metadata: {
      ...s.metadata,
      name: stagingNameOf(apiKey),
      labels: {
        [LABELS.managedBy]: MANAGED_BY_VALUE,
        [LABELS.apiKeyName]: labelValue(apiKey.metadata.name),
        [`${LABELS.apiKeyName}-role`]: 'rotation-staging',
      },
      annotations: {
        [ANNOTATIONS.publicValue]: pair.publicValue,
        [ANNOTATIONS.secretDigest]: secretDigest(pair.secretValue),
      },
    },
    data: { publicValue: b64(pair.publicValue), secretValue: b64(pair.secretValue) },
  };
}

/** viewStaging classifies the rotation staging Secret. */
export function viewStaging(secret: V1Secret | undefined, apiKey: ApiKey): StagingView {
  if (!secret) return { state: 'absent' };
  if (controllerOf(secret)?.uid !== apiKey.metadata.uid) return { state: 'foreign' };
  const pair = readPair(secret);
  return { state: 'present', publicValue: pair?.publicValue, intact: pair !== undefined };
}

/** dataKeysOf returns the data keys for the public value, secret value and URL, per preset and keys. */
export function dataKeysOf(apiKey: ApiKey): { publicValue: string; secretValue: string; url: string } {
  const s = apiKey.spec.secret;
  if (s?.preset === 'RancherEnv') {
    return { publicValue: 'RANCHER_ACCESS_KEY', secretValue: 'RANCHER_SECRET_KEY', url: 'RANCHER_URL' };
  }
  return {
    publicValue: s?.keys?.publicValue ?? 'publicValue',
    secretValue: s?.keys?.secretValue ?? 'secretValue',
    url: s?.keys?.url ?? 'url',
  };
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** desiredData returns Secret.data (base64) holding both values and the URL: one write carries the pair. */
export function desiredData(apiKey: ApiKey, url: string, pair: KeyPair): Record<string, string> {
  const k = dataKeysOf(apiKey);
  return {
    [k.publicValue]: b64(pair.publicValue),
    [k.secretValue]: b64(pair.secretValue),
    [k.url]: b64(url),
  };
}

/** desiredLabels returns the user's extra labels overlaid with the operator's own. */
export function desiredLabels(apiKey: ApiKey): Record<string, string> {
  return {
    ...apiKey.spec.secret?.labels,
    [LABELS.managedBy]: MANAGED_BY_VALUE,
    [LABELS.apiKeyName]: labelValue(apiKey.metadata.name),
  };
}

/** desiredAnnotations returns the user's extra annotations overlaid with the operator's own. */
export function desiredAnnotations(apiKey: ApiKey, pair: KeyPair): Record<string, string> {
  return {
    ...apiKey.spec.secret?.annotations,
    [ANNOTATIONS.publicValue]: pair.publicValue,
    [ANNOTATIONS.secretDigest]: secretDigest(pair.secretValue),
  };
}

/** buildSecret returns the complete Secret for a pair, owned by the ApiKey (merged over `live` metadata). */
export function buildSecret(apiKey: ApiKey, url: string, pair: KeyPair, live?: V1Secret): V1Secret {
  const name = secretNameOf(apiKey);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace: apiKey.metadata.namespace,
      resourceVersion: live?.metadata?.resourceVersion,
      labels: { ...live?.metadata?.labels, ...desiredLabels(apiKey) },
      annotations: { ...live?.metadata?.annotations, ...desiredAnnotations(apiKey, pair) },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: 'ApiKey',
          name: apiKey.metadata.name,
          uid: apiKey.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data: desiredData(apiKey, url, pair),
  };
}

/** ownerOf describes the controller owner of a Secret ("ApiKey/x", "Deployment/y") or "no owner". */
function controllerOf(secret: V1Secret): { kind: string; name: string; uid: string } | undefined {
  return secret.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/**
 * readPair finds the pair a Secret holds: the public value from its annotation and the secret value
 * as the data value whose digest matches the recorded one (so renamed data keys still work).
 */
export function readPair(secret: V1Secret): KeyPair | undefined {
  const publicValue = secret.metadata?.annotations?.[ANNOTATIONS.publicValue];
  const digest = secret.metadata?.annotations?.[ANNOTATIONS.secretDigest];
  if (!publicValue || !digest) return undefined;
  for (const value of Object.values(secret.data ?? {})) {
    const text = Buffer.from(value, 'base64').toString('utf8');
    if (secretDigest(text) === digest) return { publicValue, secretValue: text };
  }
  return undefined;
}

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const x = a ?? {};
  const keys = Object.keys(b);
  return Object.keys(x).length === keys.length && keys.every((k) => x[k] === b[k]);
}

function includes(actual: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => actual?.[k] === v);
}

/** viewSecret classifies a Secret for the planner: absent, owned by someone else, or ours (intact, up to date). */
export function viewSecret(
  secret: V1Secret | undefined,
  apiKey: ApiKey,
  url: string | undefined,
): SecretView {
  if (!secret) return { state: 'absent' };
  const owner = controllerOf(secret);
  if (!owner || owner.uid !== apiKey.metadata.uid) {
    return {
      state: 'foreign',
      owner: owner ? `${owner.kind}/${owner.name}` : 'no controller (not created by this ApiKey)',
    };
  }
  const pair = readPair(secret);
  const publicValue = secret.metadata?.annotations?.[ANNOTATIONS.publicValue];
  if (!pair) return { state: 'owned', publicValue, intact: false, upToDate: false };
  const upToDate =
    url !== undefined &&
    secret.type === 'Opaque' &&
    sameRecord(secret.data, desiredData(apiKey, url, pair)) &&
    includes(secret.metadata?.labels, desiredLabels(apiKey)) &&
    includes(secret.metadata?.annotations, desiredAnnotations(apiKey, pair));
  return { state: 'owned', publicValue, intact: true, upToDate };
}
