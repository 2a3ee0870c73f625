import { type CaBundleDeps, type CaBundleRef, caBundleProblem, readCaBundle } from './ca-bundle.ts';
import type { Refusal } from './policy.ts';

/** CaRefusal is why a connection's CA cannot be used; terminal when only a spec change can fix it. */
export interface CaRefusal extends Refusal {
  terminal: boolean;
}

/** CaSource gives the PEM text a connection trusts besides the default roots. */
export interface CaSource {
  /**
   * of returns spec.caBundle then the text spec.caBundleRef names (joined), undefined when neither is set,
   * or the refusal. A referenced object is read again once the last read is ttlMs old.
   */
  of(e: { caBundle?: string; caBundleRef?: CaBundleRef }): Promise<string | undefined | CaRefusal>;
}

/** createCaSource caches referenced bundles for ttlMs and inline verdicts by their text. */
export function createCaSource(deps: CaBundleDeps & { now(): number; ttlMs: number }): CaSource {
  const reads = new Map<string, { at: number; value: string | CaRefusal }>();
  // Verdicts on inline bundles by their text, so a pass does not parse certificates again.
  const inlineVerdicts = new Map<string, string | undefined>();

  function inlineProblem(text: string): string | undefined {
    if (!inlineVerdicts.has(text)) {
      if (inlineVerdicts.size >= 1_000) inlineVerdicts.clear();
      inlineVerdicts.set(text, caBundleProblem(text));
    }
    return inlineVerdicts.get(text);
  }

  async function referenced(ref: CaBundleRef): Promise<string | CaRefusal> {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}/${ref.key}`;
    let hit = reads.get(key);
    if (!hit || deps.now() - hit.at >= deps.ttlMs) {
      const read = await readCaBundle(ref, deps);
      // Not terminal: the object is not watched, the next check reads it again.
      hit = { at: deps.now(), value: typeof read === 'string' ? read : { ...read, terminal: false } };
      reads.set(key, hit);
    }
    return hit.value;
  }

  return {
    async of(e) {
      const parts: string[] = [];
      if (e.caBundle !== undefined) {
        const problem = inlineProblem(e.caBundle);
        if (problem) {
          const message = `spec.caBundle is not a PEM CA bundle: ${problem}`;
          return { reason: 'CABundleInvalid', message, terminal: true };
        }
        parts.push(e.caBundle);
      }
      if (e.caBundleRef !== undefined) {
        const text = await referenced(e.caBundleRef);
        if (typeof text !== 'string') return text;
        parts.push(text);
      }
      return parts.length === 0 ? undefined : parts.join('\n');
    },
  };
}
