import { z } from 'zod';

/** DNS_SUBDOMAIN matches a Kubernetes object name (RFC 1123 subdomain). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** ObjectNameSchema is a Kubernetes object name. */
export const ObjectNameSchema = z.string().min(1).max(253).regex(DNS_SUBDOMAIN);

/** DURATION_PATTERN is the text of a bounded duration (the same in zod, OpenAPI and CEL). */
export const DURATION_PATTERN = '^([0-9]{1,6}(ms|s|m|h))+$';

/**
 * DurationSchema is a Go-style duration such as `90s`, `10m` or `720h`: at most 16 characters and six digits
 * per number, so neither CEL's duration() nor parseDuration (time.ts) can overflow on it.
 */
export const DurationSchema = z.string().max(16).regex(new RegExp(DURATION_PATTERN));

/** ObjectMetaSchema is the part of metadata the operator reads; unknown fields are dropped. */
export const ObjectMetaSchema = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
  deletionTimestamp: z.union([z.string(), z.date()]).optional(),
  creationTimestamp: z.union([z.string(), z.date()]).optional(),
  finalizers: z.array(z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** ObjectMeta is the parsed metadata of a resource. */
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

/** LabelSelectorSchema is metav1.LabelSelector. */
export const LabelSelectorSchema = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional().describe('Labels that must all match.'),
    matchExpressions: z
      .array(
        z
          .object({
            key: z.string().describe('Label key the requirement applies to.'),
            operator: z
              .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
              .describe('Relation of key and values.'),
            values: z
              .array(z.string().describe('A label value.'))
              .optional()
              .describe('Values for In and NotIn.'),
          })
          .describe('A label selector requirement.'),
      )
      .optional()
      .describe('Requirements that must all hold.'),
  })
  .describe('A Kubernetes label selector.');

/** LabelSelector is a parsed metav1.LabelSelector. */
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

/** matchesSelector reports whether labels satisfy a label selector (an empty selector matches everything). */
export function matchesSelector(
  selector: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  return (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(l, e.key);
    const value = l[e.key];
    switch (e.operator) {
      case 'In':
        return has && value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return !has || value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
    return false;
  });
}
