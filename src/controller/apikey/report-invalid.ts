import { z } from 'zod';
import { ConditionSchema, conditionsEqual, mergeConditions } from '../../api/conditions.ts';
import { API_VERSION } from '../../api/names.ts';
import { formatTimestamp } from '../../api/time.ts';
import type { ExecuteDeps } from './execute/context.ts';
import { type LastWritten, rememberWrite, wroteLast } from './last-written.ts';
import { stalled } from './plan/status.ts';

/** INVALID_SPEC is the Stalled reason of an ApiKey whose spec the operator cannot parse. */
export const INVALID_SPEC = 'InvalidSpec';
const MAX_MESSAGE = 512;

// Only what is needed to address the object and compare its status: the spec is what failed to parse.
const AddressSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    generation: z.number().int().min(0).optional(),
  }),
});
const ReportedSchema = z.object({
  status: z
    .object({ observedGeneration: z.number().optional(), conditions: z.array(ConditionSchema).optional() })
    .optional(),
});

/** invalidMessage bounds the parse problem for a condition and an Event (the spec holds no secrets). */
export function invalidMessage(problem: string): string {
  const text = `spec is invalid and is not reconciled until it is fixed: ${problem}`;
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}

/**
 * reportInvalid marks an ApiKey whose spec does not parse Ready=False, Stalled=True (reason InvalidSpec)
 * with one status patch and one Warning Event. A status that already says so (or that this process just
 * wrote, which a lagging cache may not show yet) is left alone, so repeated passes write nothing.
 */
export async function reportInvalid(
  raw: unknown,
  problem: string,
  deps: Pick<ExecuteDeps, 'resources' | 'events' | 'now'>,
  lastWritten: LastWritten,
): Promise<boolean> {
  const address = AddressSchema.safeParse(raw);
  if (!address.success) return false;
  const { name, namespace, uid, generation } = address.data.metadata;
  const reported = ReportedSchema.safeParse(raw);
  const current = reported.success ? reported.data.status : undefined;
  const message = invalidMessage(problem);
  const now = formatTimestamp(deps.now());
  const conditions = mergeConditions(current?.conditions, stalled(INVALID_SPEC, message), now, generation);
  const fingerprint = JSON.stringify({ generation, invalid: message });
  const unchanged =
    current?.observedGeneration === generation && conditionsEqual(current?.conditions, conditions);
  if (unchanged || wroteLast(lastWritten, { namespace, name, uid }, fingerprint)) return false;
  await deps.resources.patchStatus('apikeys', namespace, name, {
    observedGeneration: generation,
    conditions,
  });
  rememberWrite(lastWritten, { namespace, name, uid }, fingerprint);
  const regarding = { apiVersion: API_VERSION, kind: 'ApiKey', name, namespace, uid };
  await deps.events.record(regarding, 'Warning', INVALID_SPEC, message, 'Validate');
  return true;
}

const DeletingSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    resourceVersion: z.string().optional(),
    deletionTimestamp: z.unknown().optional(),
    finalizers: z.array(z.string()).optional(),
  }),
  status: z
    .object({ id: z.string().optional(), retiring: z.array(z.unknown()).optional() })
    .loose()
    .optional(),
});

/**
 * releaseInvalid lets go of a deleted ApiKey whose spec does not parse when no Rancher key can exist for it
 * (status records none and nothing is retiring): its finalizer is removed with an Event saying Rancher was not
 * touched. With a recorded key the finalizer stays, so the key is not orphaned; fixing the spec resumes deletion.
 */
export async function releaseInvalid(
  raw: unknown,
  finalizer: string,
  deps: Pick<ExecuteDeps, 'resources' | 'events'>,
): Promise<boolean> {
  const parsed = DeletingSchema.safeParse(raw);
  if (!parsed.success) return false;
  const { metadata: m, status } = parsed.data;
  const finalizers = m.finalizers ?? [];
  if (m.deletionTimestamp === undefined || !finalizers.includes(finalizer)) return false;
  if (status?.id !== undefined || (status?.retiring?.length ?? 0) > 0) return false;
  await deps.resources.setFinalizers(
    'apikeys',
    m.namespace,
    m.name,
    finalizers.filter((f) => f !== finalizer),
    m.resourceVersion ?? '',
  );
  const regarding = {
    apiVersion: API_VERSION,
    kind: 'ApiKey',
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
  };
  const message = 'no Rancher key was created for this ApiKey, so none was touched (its spec is invalid)';
  await deps.events.record(regarding, 'Normal', 'DeletedWithoutRancher', message, 'Delete');
  return true;
}
