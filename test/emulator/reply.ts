import type { Policy } from './auth.ts';
import type { Directory } from './directory.ts';
import type { KeyStore } from './key-store.ts';
import type { RancherRequest } from './route.ts';

/** Reply is a response a handler decided on; the server serialises it (or loses it, under a fault). */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (the certificate link). */
  raw?: { contentType: string; data: Buffer };
}

/** ApiContext is everything a Rancher route handler may use: the parsed request, the caller's policy, the body and the stores. */
export interface ApiContext {
  req: RancherRequest;
  policy: Policy;
  /** Parsed JSON body, or undefined when the request had none. */
  body: unknown;
  keys: KeyStore;
  directory: Directory;
  now: () => number;
}

/** json builds a JSON reply. */
export function json(status: number, body: unknown): Reply {
  return { status, body };
}
