import { type CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { z } from 'zod';
import { isNotFound } from './errors.ts';

/** LeaseRecord is the leader election record held in a Lease spec; times are epoch milliseconds. */
export type LeaseRecord = {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaseTransitions: number;
};

/**
 * Lease is a Lease as read: its record, the resourceVersion a replace must carry, and its annotations (a shard's
 * Lease says there what the shard watches).
 */
export type Lease = { resourceVersion: string; record: LeaseRecord; annotations?: Record<string, string> };

/**
 * LeaseApi is the minimal Lease access leader election needs. `read` returns undefined when the Lease does
 * not exist; `create` fails if it exists; `replace` fails (409) when resourceVersion is stale.
 */
export type LeaseApi = {
  read(namespace: string, name: string): Promise<Lease | undefined>;
  create(namespace: string, name: string, record: LeaseRecord): Promise<Lease>;
  replace(namespace: string, name: string, resourceVersion: string, record: LeaseRecord): Promise<Lease>;
};

const TimeSchema = z
  .union([z.string(), z.date()])
  .nullish()
  .transform((t) => (t == null ? 0 : new Date(t).getTime() || 0));

const V1LeaseSchema = z.object({
  metadata: z.object({
    resourceVersion: z.string(),
    annotations: z.record(z.string(), z.string()).nullish(),
  }),
  spec: z
    .object({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().nullish(),
      acquireTime: TimeSchema,
      renewTime: TimeSchema,
      leaseTransitions: z.number().nullish(),
    })
    .optional(),
});

/** parseLease converts a Lease object from the apiserver into a Lease; it throws on a malformed object. */
export function parseLease(obj: unknown): Lease {
  const lease = V1LeaseSchema.parse(obj);
  const spec = lease.spec;
  const annotations = lease.metadata.annotations ?? undefined;
  return {
    resourceVersion: lease.metadata.resourceVersion,
    ...(annotations ? { annotations } : {}),
    record: {
      holderIdentity: spec?.holderIdentity ?? '',
      leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
      acquireTime: spec?.acquireTime ?? 0,
      renewTime: spec?.renewTime ?? 0,
      leaseTransitions: spec?.leaseTransitions ?? 0,
    },
  };
}

/** leaseBody builds the Lease object for create/replace, with times as V1MicroTime (6 fractional digits). */
export function leaseBody(
  namespace: string,
  name: string,
  record: LeaseRecord,
  resourceVersion?: string,
  annotations?: Record<string, string>,
) {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      ...(annotations === undefined ? {} : { annotations }),
    },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: new V1MicroTime(record.acquireTime),
      renewTime: new V1MicroTime(record.renewTime),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

/**
 * leaseApiFrom adapts client-node's CoordinationV1Api to LeaseApi. A replace sends a whole Lease built from
 * the record and `annotations` (a shard's scope), so other labels or annotations on the Lease are not preserved.
 */
export function leaseApiFrom(
  api: Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>,
  annotations?: Record<string, string>,
): LeaseApi {
  return {
    async read(namespace, name) {
      try {
        return parseLease(await api.readNamespacedLease({ namespace, name }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(namespace, name, record) {
      return parseLease(
        await api.createNamespacedLease({
          namespace,
          body: leaseBody(namespace, name, record, undefined, annotations),
        }),
      );
    },
    async replace(namespace, name, resourceVersion, record) {
      const body = leaseBody(namespace, name, record, resourceVersion, annotations);
      return parseLease(await api.replaceNamespacedLease({ namespace, name, body }));
    },
  };
}
