import { z } from 'zod';

/** ConditionSchema is the standard metav1.Condition shape used in every status. */
export const ConditionSchema = z
  .object({
    type: z.string().describe('Type of condition: Ready, Reconciling, Stalled or Verified.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    reason: z.string().describe('Machine-readable, CamelCase reason for the last transition.'),
    message: z.string().describe('Human-readable explanation; never contains secret values.'),
    lastTransitionTime: z.string().describe('When the condition last changed status (RFC 3339).'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was set for.'),
  })
  .describe('A condition of the resource.');

/**
 * conditionsSchema is a status.conditions list: a list-map keyed by type (x-kubernetes-list-type: map), so each
 * type appears once and server-side apply merges entries by type; a merge patch still replaces the whole list.
 */
export function conditionsSchema(description: string) {
  return z.array(ConditionSchema).meta({
    description,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

/** Condition is one entry of status.conditions. */
export type Condition = z.infer<typeof ConditionSchema>;

/** ConditionInput is a condition without its transition time, as computed by the planner. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * mergeConditions returns the next conditions list: each desired condition keeps its previous
 * lastTransitionTime when its status did not change, and conditions not in `desired` are dropped.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly ConditionInput[],
  now: string,
  generation: number | undefined,
): Condition[] {
  return desired.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now;
    return generation === undefined
      ? { ...c, lastTransitionTime }
      : { ...c, lastTransitionTime, observedGeneration: generation };
  });
}

/** conditionsEqual reports whether two lists are the same, ignoring transition times. */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  return x.every((c, i) => {
    const d = y[i];
    return (
      d !== undefined &&
      c.type === d.type &&
      c.status === d.status &&
      c.reason === d.reason &&
      c.message === d.message &&
      c.observedGeneration === d.observedGeneration
    );
  });
}
