import { X509Certificate } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { SecretStore } from '../../kube/secrets.ts';
import type { Refusal } from './policy.ts';

/** CaBundleRef is a connection's spec.caBundleRef with the namespace it is read in. */
export interface CaBundleRef {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  key: string;
  namespace: string;
}

/** ConfigMapReader reads one ConfigMap; undefined when it does not exist. */
export interface ConfigMapReader {
  read(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
}

/** MAX_CA_BUNDLE_BYTES bounds a referenced bundle: a whole public root store is about 220 KiB. */
export const MAX_CA_BUNDLE_BYTES = 256 * 1024;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * caBundleProblem says why a text is not a usable PEM CA bundle (too large, no certificate, one that does not
 * parse), or undefined. The answer never quotes the text.
 */
export function caBundleProblem(text: string): string | undefined {
  if (Buffer.byteLength(text, 'utf8') > MAX_CA_BUNDLE_BYTES) return 'it is larger than 256 KiB';
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `certificate ${i + 1} of ${blocks.length} does not parse`;
    }
  }
  return undefined;
}

/** CaBundleDeps are the reads a referenced bundle needs. */
export interface CaBundleDeps {
  secrets: SecretStore;
  configMaps: ConfigMapReader;
}

/**
 * readCaBundle reads the PEM text a caBundleRef names, or the refusal that says what is missing or wrong:
 * CABundleNotFound (object or key absent), CABundleInvalid (not PEM certificates), CABundleUnreadable (the
 * read failed, e.g. RBAC). None is terminal: the object is not watched but read again at the next check.
 */
export async function readCaBundle(ref: CaBundleRef, deps: CaBundleDeps): Promise<string | Refusal> {
  const where = `${ref.kind} ${ref.namespace}/${ref.name}`;
  let text: string | undefined;
  let found: boolean;
  try {
    if (ref.kind === 'Secret') {
      const secret = await deps.secrets.read(ref.namespace, ref.name);
      found = secret !== undefined;
      const raw = secret?.data?.[ref.key];
      text = raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
    } else {
      const map = await deps.configMaps.read(ref.namespace, ref.name);
      found = map !== undefined;
      const binary = map?.binaryData?.[ref.key];
      text =
        map?.data?.[ref.key] ??
        (binary === undefined ? undefined : Buffer.from(binary, 'base64').toString('utf8'));
    }
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    return {
      reason: 'CABundleUnreadable',
      message: `cannot read ${where} named by spec.caBundleRef${typeof status === 'number' ? ` (HTTP ${status})` : ''}`,
    };
  }
  if (!found) return { reason: 'CABundleNotFound', message: `${where} named by spec.caBundleRef not found` };
  if (text === undefined) {
    return { reason: 'CABundleNotFound', message: `${where} has no key ${ref.key} (spec.caBundleRef.key)` };
  }
  const problem = caBundleProblem(text);
  if (problem) {
    return {
      reason: 'CABundleInvalid',
      message: `key ${ref.key} of ${where} is not a PEM CA bundle: ${problem}`,
    };
  }
  return text;
}
