import type { V1Secret } from '@kubernetes/client-node';
import type { ResourceWriter } from '../../kube/resources.ts';
import type { SecretStore } from '../../kube/secrets.ts';

/**
 * OwnWrite is what one pass that wrote left behind: the resourceVersions it knew (the cached ApiKey and output
 * Secret it started from, and every version its own writes produced; ABSENT for a Secret that did not exist)
 * and until when it asked not to be woken. A cache showing only states the pass knew holds nothing new, so a
 * pass woken by the echo of those writes has nothing to do.
 */
export interface OwnWrite {
  secretName: string;
  apiKeyVersions: string[];
  secretVersions: string[];
  until: number;
}

/** ABSENT stands for "no Secret" among the known Secret versions. */
export const ABSENT = '';

/** OwnWrites remembers, per `namespace/name`, the last pass's writes until the next pass runs. */
export type OwnWrites = Map<string, OwnWrite>;

/** WriteLog collects the resourceVersions a pass's writes returned. */
export interface WriteLog {
  apiKeyVersions: string[];
  secretVersions: string[];
}

/**
 * recordingWriters wraps the pass's writers so each write's new resourceVersion lands in `log` (the ApiKey's
 * finalizer and status patches; the output Secret's create and replace).
 */
export function recordingWriters(
  deps: { resources: ResourceWriter; secrets: SecretStore },
  log: WriteLog,
): { resources: ResourceWriter; secrets: SecretStore } {
  const { resources, secrets } = deps;
  const note = (into: string[], rv: string | undefined) => {
    if (rv !== undefined) into.push(rv);
    return rv;
  };
  const noteSecret = (s: V1Secret) => {
    note(log.secretVersions, s.metadata?.resourceVersion);
    return s;
  };
  return {
    resources: {
      setFinalizers: async (plural, ns, name, finalizers, rv) =>
        note(log.apiKeyVersions, await resources.setFinalizers(plural, ns, name, finalizers, rv)),
      patchStatus: async (plural, ns, name, status) =>
        note(log.apiKeyVersions, await resources.patchStatus(plural, ns, name, status)),
    },
    secrets: {
      read: (ns, name) => secrets.read(ns, name),
      create: async (s) => noteSecret(await secrets.create(s)),
      replace: async (s) => noteSecret(await secrets.replace(s)),
      delete: (ns, name, uid) => secrets.delete(ns, name, uid),
    },
  };
}

/**
 * echoOnly reports that the cached ApiKey and output Secret are states the last writing pass knew and its
 * wake-up time has not come: a new pass would only repeat it. Any other version (someone else's write, a
 * deletion) makes the pass run.
 */
export function echoOnly(
  last: OwnWrite | undefined,
  cached: { apiKeyVersion: string | undefined; secretVersion: (secretName: string) => string },
  now: number,
): boolean {
  if (!last || now >= last.until || cached.apiKeyVersion === undefined) return false;
  if (!last.apiKeyVersions.includes(cached.apiKeyVersion)) return false;
  return last.secretVersions.includes(cached.secretVersion(last.secretName));
}
