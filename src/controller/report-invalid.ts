import { z } from 'zod';
import { ConditionSchema, conditionsEqual, mergeConditions } from '../api/conditions.ts';
import { API_VERSION } from '../api/names.ts';
import type { ExecuteDeps } from './execute-context.ts';
import { stalled } from './plan-status.ts';

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
  lastWritten: Map<string, string>,
): Promise<boolean> {
  const address = AddressSchema.safeParse(raw);
  if (!address.success) return false;
  const { name, namespace, uid, generation } = address.data.metadata;
  const reported = ReportedSchema.safeParse(raw);
  const current = reported.success ? reported.data.status : undefined;
  const message = invalidMessage(problem);
  const now = new Date(deps.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = mergeConditions(current?.conditions, stalled(INVALID_SPEC, message), now, generation);
  const fingerprint = JSON.stringify({ generation, invalid: message });
  const unchanged =
    current?.observedGeneration === generation && conditionsEqual(current?.conditions, conditions);
  if (unchanged || lastWritten.get(uid) === fingerprint) return false;
  await deps.resources.patchStatus('apikeys', namespace, name, {
    observedGeneration: generation,
    conditions,
  });
  lastWritten.set(uid, fingerprint);
  const regarding = { apiVersion: API_VERSION, kind: 'ApiKey', name, namespace, uid };
  await deps.events.record(regarding, 'Warning', INVALID_SPEC, message, 'Validate');
  return true;
}
