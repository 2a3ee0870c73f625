import type { KubernetesObject } from '@kubernetes/client-node';
import { type ApiKey, ApiKeySpecSchema } from '../../api/apikey.ts';
import type { ConnectionRef } from './types.ts';

const RefOnlySchema = ApiKeySpecSchema.pick({ connectionRef: true });

/** connectionRefOf returns the connection a parsed ApiKey refers to, its environment included. */
export function connectionRefOf(apiKey: Pick<ApiKey, 'metadata' | 'spec'>): ConnectionRef {
  const ref: ConnectionRef = { ...apiKey.spec.connectionRef, namespace: apiKey.metadata.namespace ?? '' };
  if (apiKey.spec.environment !== undefined) ref.environment = apiKey.spec.environment;
  return ref;
}

/**
 * connectionRefOfObject reads the connection reference of a cached, unparsed ApiKey with the API schema's own
 * rules (kind defaults to RancherConnection), without its environment; undefined when it does not parse.
 */
export function connectionRefOfObject(o: KubernetesObject): ConnectionRef | undefined {
  const parsed = RefOnlySchema.safeParse((o as { spec?: unknown }).spec);
  if (!parsed.success) return undefined;
  return { ...parsed.data.connectionRef, namespace: o.metadata?.namespace ?? '' };
}
