import { createHash } from 'node:crypto';

/**
 * LastWritten remembers the last status this process wrote for each ApiKey, so that a pass whose cache
 * lags behind that write does not send it again. Entries are keyed by `namespace/name` (a pass that finds
 * the ApiKey gone knows only that) and hold the uid, so a recreated ApiKey of the same name starts afresh.
 */
export type LastWritten = Map<string, string>;

interface Written {
  namespace?: string | undefined;
  name: string;
  uid: string;
}

const entryOf = (o: Written): string => `${o.namespace ?? ''}/${o.name}`;

// A digest, not the status itself: one entry per ApiKey stays ~70 bytes instead of the whole status as JSON.
const digest = (fingerprint: string): string => createHash('sha1').update(fingerprint).digest('base64');

/** wroteLast reports whether `fingerprint` is what this process last wrote for this ApiKey (this uid). */
export function wroteLast(memory: LastWritten, o: Written, fingerprint: string): boolean {
  return memory.get(entryOf(o)) === `${o.uid} ${digest(fingerprint)}`;
}

/** rememberWrite records a status write. */
export function rememberWrite(memory: LastWritten, o: Written, fingerprint: string): void {
  memory.set(entryOf(o), `${o.uid} ${digest(fingerprint)}`);
}
