import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { ApiKey } from '../../api/apikey.ts';
import { ANNOTATIONS, LABELS, MANAGED_BY_VALUE } from '../../api/names.ts';
import type { SecretView, StagingView } from './model.ts';
import {
  mergeMetadata,
  ownerAnnotations,
  ownerOf,
  ownerReferenceOf,
  ownerReferencesFor,
  sameOwnerReferences,
} from './secret-metadata.ts';
import { checkTemplate, renderTemplate } from './secret-template.ts';

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
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      namespace: apiKey.metadata.namespace,
      resourceVersion: live?.metadata?.resourceVersion,
      // Always owned, whatever the output Secret's retention: it never outlives its ApiKey.
      ownerReferences: [ownerReferenceOf(apiKey)],
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
  const ref = secret.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (ref?.uid !== apiKey.metadata.uid) return { state: 'foreign' };
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

/** secretTypeOf returns the output Secret's type: spec.secret.type, Opaque by default. */
export function secretTypeOf(apiKey: ApiKey): string {
  return apiKey.spec.secret?.type ?? 'Opaque';
}

/**
 * checkSecretTemplate parses spec.secret.template and proves its output bounded, or throws a TemplateError
 * (pure: the planner refuses such a spec before anything is written).
 */
export function checkSecretTemplate(apiKey: ApiKey) {
  return checkTemplate(apiKey.spec.secret?.template, Object.values(dataKeysOf(apiKey)));
}

/**
 * desiredData returns Secret.data (base64) holding both values, the URL and the template entries rendered from
 * them: one write carries the pair and everything derived from it. Throws a TemplateError for a bad template.
 */
export function desiredData(apiKey: ApiKey, url: string, pair: KeyPair): Record<string, string> {
  const k = dataKeysOf(apiKey);
  const rendered = renderTemplate(checkSecretTemplate(apiKey), {
    ...pair,
    url,
    environment: apiKey.spec.environment ?? '',
  });
  const data: Record<string, string> = {};
  for (const [key, text] of Object.entries(rendered)) data[key] = b64(text);
  data[k.publicValue] = b64(pair.publicValue);
  data[k.secretValue] = b64(pair.secretValue);
  data[k.url] = b64(url);
  return data;
}

/** operatorLabels are the labels the operator sets on the output Secret (its informer selects on managed-by). */
function operatorLabels(apiKey: ApiKey): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY_VALUE, [LABELS.apiKeyName]: labelValue(apiKey.metadata.name) };
}

/** secretMetadata returns the Secret's labels and annotations for a pair, merged declaratively over `live`. */
function secretMetadata(apiKey: ApiKey, pair: KeyPair, live: V1Secret | undefined) {
  return mergeMetadata(live?.metadata, {
    userLabels: apiKey.spec.secret?.labels ?? {},
    userAnnotations: apiKey.spec.secret?.annotations ?? {},
    operatorLabels: operatorLabels(apiKey),
    operatorAnnotations: {
      [ANNOTATIONS.publicValue]: pair.publicValue,
      [ANNOTATIONS.secretDigest]: secretDigest(pair.secretValue),
      ...ownerAnnotations(apiKey),
    },
  });
}

/**
 * buildSecret returns the complete Secret for a pair, merged over `live` metadata: owned by the ApiKey (or, with
 * retention Retain, marked by annotation only), with the spec's labels and annotations applied declaratively.
 */
export function buildSecret(apiKey: ApiKey, url: string, pair: KeyPair, live?: V1Secret): V1Secret {
  const name = secretNameOf(apiKey);
  const { labels, annotations } = secretMetadata(apiKey, pair, live);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: secretTypeOf(apiKey),
    metadata: {
      name,
      namespace: apiKey.metadata.namespace,
      resourceVersion: live?.metadata?.resourceVersion,
      labels,
      annotations,
      ownerReferences: ownerReferencesFor(apiKey, live),
    },
    data: desiredData(apiKey, url, pair),
  };
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

/** upToDate reports whether writing the pair again would change nothing (a bad template never is). */
function upToDate(secret: V1Secret, apiKey: ApiKey, url: string, pair: KeyPair): boolean {
  let want: V1Secret;
  try {
    want = buildSecret(apiKey, url, pair, secret);
  } catch {
    return false;
  }
  return (
    (secret.type ?? 'Opaque') === want.type &&
    sameRecord(secret.data, want.data ?? {}) &&
    sameRecord(secret.metadata?.labels, want.metadata?.labels ?? {}) &&
    sameRecord(secret.metadata?.annotations, want.metadata?.annotations ?? {}) &&
    sameOwnerReferences(secret.metadata?.ownerReferences, want.metadata?.ownerReferences)
  );
}

/** viewSecret classifies a Secret for the planner: absent, owned by someone else, or ours (intact, up to date). */
export function viewSecret(
  secret: V1Secret | undefined,
  apiKey: ApiKey,
  url: string | undefined,
): SecretView {
  if (!secret) return { state: 'absent' };
  const owner = ownerOf(secret);
  if (!owner || owner.uid !== apiKey.metadata.uid) {
    return {
      state: 'foreign',
      owner: owner ? owner.describe : 'no controller (not created by this ApiKey)',
    };
  }
  const pair = readPair(secret);
  const publicValue = secret.metadata?.annotations?.[ANNOTATIONS.publicValue];
  if (!pair) return { state: 'owned', publicValue, intact: false, upToDate: false };
  return {
    state: 'owned',
    publicValue,
    intact: true,
    upToDate: url !== undefined && upToDate(secret, apiKey, url, pair),
  };
}
