import { z } from 'zod';
import { DURATION_PATTERN, DurationSchema, ObjectMetaSchema, ObjectNameSchema } from './common.ts';
import { conditionsSchema } from './conditions.ts';
import { parseDuration } from './time.ts';

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const DataKeySchema = z.string().min(1).max(253).regex(DATA_KEY);

/** SecretKeysSchema names the Secret data keys that hold each value. */
export const SecretKeysSchema = z
  .object({
    publicValue: DataKeySchema.default('publicValue').describe('Data key for the access key (publicValue).'),
    secretValue: DataKeySchema.default('secretValue').describe('Data key for the secret key (secretValue).'),
    url: DataKeySchema.default('url').describe('Data key for the Rancher URL.'),
  })
  .meta({
    description: 'Data key names. Ignored when preset is RancherEnv.',
    'x-kubernetes-validations': [
      {
        rule: 'self.publicValue != self.secretValue && self.publicValue != self.url && self.secretValue != self.url',
        message: 'secret.keys.publicValue, secretValue and url must be three different data keys',
      },
    ],
  });

const SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';

/** SecretTypeSchema is spec.secret.type: any Secret type but a service account token. */
const SecretTypeSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9/]+$/)
  .refine((t) => t !== SERVICE_ACCOUNT_TOKEN, { message: `secret.type must not be ${SERVICE_ACCOUNT_TOKEN}` })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: `self != '${SERVICE_ACCOUNT_TOKEN}'`,
        message: `secret.type must not be ${SERVICE_ACCOUNT_TOKEN}`,
      },
    ],
  });

/** TEMPLATE_BOUNDS are the CRD limits of spec.secret.template (the render limits are in secret-template.ts). */
export const TEMPLATE_BOUNDS = { maxEntries: 16, maxTextLength: 4096 } as const;

const TEMPLATE_KEY_MESSAGE =
  'secret.template keys are Secret data keys: letters, digits, "-", "_" and "." (at most 253 characters)';

/** SecretTemplateSchema is spec.secret.template: extra data entries rendered from the key's own values. */
export const SecretTemplateSchema = z
  .record(z.string(), z.string().max(TEMPLATE_BOUNDS.maxTextLength))
  .refine((t) => Object.keys(t).length <= TEMPLATE_BOUNDS.maxEntries, {
    message: `secret.template has at most ${TEMPLATE_BOUNDS.maxEntries} entries`,
  })
  .refine((t) => Object.keys(t).every((k) => DATA_KEY.test(k) && k.length <= 253), {
    message: TEMPLATE_KEY_MESSAGE,
  })
  .meta({
    description:
      "Extra Secret data entries, data key -> template, rendered from this key's own values and written in the " +
      'same single write as the values (also on rotation). Text outside {{ }} is copied; an action ' +
      'concatenates fields (.publicValue, .secretValue, .url, .environment) and "string literals" and may pipe ' +
      'the result through base64, json or urlquery, e.g. `Basic {{ .publicValue ":" .secretValue | base64 }}`. ' +
      `Nothing else can be read or run. At most ${TEMPLATE_BOUNDS.maxEntries} entries of ` +
      `${TEMPLATE_BOUNDS.maxTextLength} characters; each must render to at most 16 KiB (32 KiB together).`,
    maxProperties: TEMPLATE_BOUNDS.maxEntries,
    'x-kubernetes-validations': [
      {
        rule: "self.all(k, k.size() <= 253 && k.matches('^[-._a-zA-Z0-9]+$'))",
        message: TEMPLATE_KEY_MESSAGE,
      },
    ],
  });

/** SecretOutputSchema describes the Secret the operator writes. */
export const SecretOutputSchema = z
  .object({
    name: ObjectNameSchema.optional().describe(
      'Name of the Secret in the ApiKey namespace. Defaults to the ApiKey name. Immutable.',
    ),
    preset: z
      .enum(['Default', 'RancherEnv'])
      .default('Default')
      .describe(
        'Default writes publicValue/secretValue/url (or the names in keys). RancherEnv writes RANCHER_URL, ' +
          'RANCHER_ACCESS_KEY and RANCHER_SECRET_KEY, the convention of the rancher CLI and rancher-compose.',
      ),
    keys: SecretKeysSchema.optional(),
    labels: z
      .record(z.string(), z.string())
      .optional()
      .describe('Extra labels on the Secret. The operator’s own labels win on conflict.'),
    annotations: z
      .record(z.string(), z.string())
      .optional()
      .describe('Extra annotations on the Secret. The operator’s own annotations win on conflict.'),
    type: SecretTypeSchema.default('Opaque').describe(
      'Type of the Secret, such as Opaque (default), kubernetes.io/basic-auth (add username/password ' +
        'entries with template) or a custom type. Kubernetes cannot change the type of an existing Secret, so ' +
        'it is immutable here; kubernetes.io/service-account-token is refused.',
    ),
    template: SecretTemplateSchema.optional(),
    retention: z
      .enum(['Delete', 'Retain'])
      .default('Delete')
      .describe(
        'What deleting the ApiKey does to the Secret, whatever deletionPolicy does to the Rancher key: ' +
          'Delete (default; the Secret is owned by the ApiKey and goes with it) or Retain (no owner reference, ' +
          'the Secret stays, for example while migrating consumers; with deletionPolicy Purge its pair no ' +
          'longer authenticates).',
      ),
  })
  .describe('Where and how the key values are written.');

// Texts of the ownership marker (marker.ts): a description that contains them could pass for it.
const MARKER_TEXTS = [
  'managed by rancher-apikey-operator',
  'released by rancher-apikey-operator',
  'apikey-uid:',
];
const MARKER_MESSAGE =
  'description must not contain the operator\'s ownership marker text ("managed by ' +
  'rancher-apikey-operator", "released by rancher-apikey-operator", "apikey-uid:")';
const MARKER_RULE = MARKER_TEXTS.map((t) => `!self.lowerAscii().contains('${t}')`).join(' && ');

/** forgesMarker reports whether a description contains the operator's ownership marker text (any case). */
export function forgesMarker(text: string): boolean {
  const lower = text.toLowerCase();
  return MARKER_TEXTS.some((t) => lower.includes(t));
}

/** ROTATION_BOUNDS are the limits of spec.rotation, enforced by CEL in the CRD and again when parsing. */
export const ROTATION_BOUNDS = { minEvery: '1h', maxEvery: '8760h', maxOverlap: '168h' } as const;

const ms = (d: string): number => parseDuration(d) ?? Number.NaN;
const EVERY_RANGE_MESSAGE = `rotation.every must be between ${ROTATION_BOUNDS.minEvery} and ${ROTATION_BOUNDS.maxEvery}`;
const OVERLAP_MESSAGE = `rotation.overlap must be at most ${ROTATION_BOUNDS.maxOverlap}`;
const EVERY_OVERLAP_MESSAGE = 'rotation.every must be longer than rotation.overlap';
// CEL's duration() fails (instead of answering false) on text it cannot parse or that overflows, and a failing
// rule cannot ratchet: an object stored under an older CRD could then not even be annotated. So each duration
// is checked against the schema's own bounds first (CEL's && absorbs the error of the side it skips).
const parses = (f: string) => `self.${f}.size() <= 16 && self.${f}.matches('${DURATION_PATTERN}')`;
const OVERLAP_CEL = "(has(self.overlap) ? duration(self.overlap) : duration('10m'))";

/** WORKLOAD_KINDS are the workloads a rotation may restart. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

/** RESTART_BOUNDS limit spec.rotation.restartConsumers (listed workloads). */
export const RESTART_BOUNDS = { maxWorkloads: 32 } as const;

/** RestartConsumersSchema is spec.rotation.restartConsumers: the opt-in rolling restart of consumers on rotation. */
export const RestartConsumersSchema = z
  .object({
    discover: z
      .boolean()
      .default(true)
      .describe(
        'Also restart every Deployment, StatefulSet and DaemonSet in this namespace whose pod template ' +
          'references the Secret (env valueFrom, envFrom, a secret volume or a projected volume).',
      ),
    workloads: z
      .array(
        z
          .object({
            kind: z.enum(WORKLOAD_KINDS).describe('Deployment, StatefulSet or DaemonSet.'),
            name: ObjectNameSchema.describe('Name of the workload in the ApiKey namespace.'),
          })
          .describe('A workload in the ApiKey namespace.'),
      )
      .max(RESTART_BOUNDS.maxWorkloads)
      .optional()
      .describe(
        'Workloads to restart whether or not they reference the Secret (for example ones that read it through ' +
          `a sidecar); at most ${RESTART_BOUNDS.maxWorkloads}.`,
      ),
  })
  .describe(
    'Roll consumers onto the new pair: when a rotation has written it, the operator sets the pod template ' +
      'annotation rancher.keyops.dev/restarted-for (like kubectl rollout restart) on these workloads, and retires ' +
      'the old key as soon as all of them have rolled out, at the latest when the overlap ends. Needs the ' +
      'operator installed with consumer restarts on (CONSUMER_RESTARTS=true and its RBAC; see the README). Off ' +
      'when absent.',
  );

/** RotationSchema is spec.rotation: bounded schedule and overlap, so no value can loop or overflow. */
export const RotationSchema = z
  .object({
    every: DurationSchema.optional().describe(
      `Replace the key on this schedule, such as 720h (30 days); from ${ROTATION_BOUNDS.minEvery} to ` +
        `${ROTATION_BOUNDS.maxEvery}, and longer than overlap. Omit for on-demand rotation only ` +
        '(annotation rancher.keyops.dev/rotate-requested-at).',
    ),
    overlap: DurationSchema.default('10m').describe(
      'How long the replaced key stays active after the Secret holds the new pair, so consumers can pick ' +
        `up the new values before the old ones stop working; at most ${ROTATION_BOUNDS.maxOverlap}.`,
    ),
    restartConsumers: RestartConsumersSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const overlap = ms(r.overlap);
    if (!(overlap <= ms(ROTATION_BOUNDS.maxOverlap)))
      ctx.addIssue({ code: 'custom', path: ['overlap'], message: OVERLAP_MESSAGE });
    if (r.every === undefined) return;
    const every = ms(r.every);
    if (!(every >= ms(ROTATION_BOUNDS.minEvery) && every <= ms(ROTATION_BOUNDS.maxEvery)))
      ctx.addIssue({ code: 'custom', path: ['every'], message: EVERY_RANGE_MESSAGE });
    else if (!(every > overlap))
      ctx.addIssue({ code: 'custom', path: ['every'], message: EVERY_OVERLAP_MESSAGE });
  })
  .meta({
    description:
      'Zero-downtime key rotation: new key, one Secret write, overlap, then retirement of the old key.',
    'x-kubernetes-validations': [
      {
        rule:
          `!has(self.every) || (${parses('every')} && ` +
          `duration(self.every) >= duration('${ROTATION_BOUNDS.minEvery}') && ` +
          `duration(self.every) <= duration('${ROTATION_BOUNDS.maxEvery}'))`,
        message: EVERY_RANGE_MESSAGE,
      },
      {
        rule:
          `!has(self.overlap) || (${parses('overlap')} && ` +
          `duration(self.overlap) <= duration('${ROTATION_BOUNDS.maxOverlap}'))`,
        message: OVERLAP_MESSAGE,
      },
      {
        // Reported only when both parse: an unparseable one already fails the rules above.
        rule:
          `!has(self.every) || !(${parses('every')}) || (has(self.overlap) && !(${parses('overlap')})) || ` +
          `duration(self.every) > ${OVERLAP_CEL}`,
        message: EVERY_OVERLAP_MESSAGE,
      },
    ],
  });

/**
 * AdoptSchema is spec.adopt: an existing Rancher key this ApiKey takes over instead of creating one. The Secret
 * holding its secret value is named without a namespace: only the ApiKey's own namespace can be read.
 */
export const AdoptSchema = z
  .object({
    publicValue: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9]+$/)
      .describe('Access key (publicValue) of the existing Rancher key; not a secret.'),
    secretValueFrom: z
      .object({
        name: ObjectNameSchema.describe(
          'Name of a Secret in the ApiKey namespace (there is no namespace field: another namespace cannot be named).',
        ),
        key: DataKeySchema.default('secretValue').describe(
          'Data key of that Secret holding the secret value.',
        ),
      })
      .strict()
      .describe('The Secret key that holds the existing key’s secret value (secretValue).'),
  })
  .strict()
  .describe(
    'Take over an existing Rancher key instead of creating one. The operator checks that the pair authenticates, ' +
      'that the key belongs to the connection’s scope (spec.environment, or the connection’s account) and that ' +
      'no other ApiKey owns it, then adds its ownership marker (name and description become this ApiKey’s), ' +
      'writes the output Secret and manages the key like any other (rotation, deletionPolicy, drift). Anything ' +
      'else is refused (Stalled, reason AdoptAuthenticationFailed, AdoptKeyOutOfScope or AdoptKeyOwned) and ' +
      'nothing changes in Rancher. Can be set only when the ApiKey is created; it may be removed later.',
  );

/** ApiKeySpecSchema is the desired state of an ApiKey. */
export const ApiKeySpecSchema = z
  .object({
    connectionRef: z
      .object({
        name: ObjectNameSchema.describe('Name of the connection.'),
        kind: z
          .enum(['RancherConnection', 'ClusterRancherConnection'])
          .default('RancherConnection')
          .describe('RancherConnection (same namespace) or ClusterRancherConnection.'),
      })
      .meta({
        description: 'The Rancher connection that creates this key. Immutable.',
        'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'connectionRef is immutable' }],
      }),
    environment: z
      .string()
      .regex(/^1[a-z]+[0-9]+$/)
      .optional()
      .describe(
        'Environment (project) id such as 1a5 for an environment key; omit for an account key. Immutable.',
      ),
    name: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe('Name of the key in Rancher. Defaults to metadata.name.'),
    description: z
      .string()
      .max(1024)
      .refine((text) => !forgesMarker(text), { message: MARKER_MESSAGE })
      .optional()
      .meta({
        description:
          'Description of the key in Rancher. The operator appends its ownership marker; the marker text ' +
          'itself is refused here.',
        'x-kubernetes-validations': [{ rule: MARKER_RULE, message: MARKER_MESSAGE }],
      }),
    state: z
      .enum(['Active', 'Inactive'])
      .default('Active')
      .describe('Desired Rancher state: Active keys authenticate, Inactive keys do not.'),
    secret: SecretOutputSchema.optional(),
    rotation: RotationSchema.optional(),
    adopt: AdoptSchema.optional(),
    mode: z
      .enum(['Apply', 'Plan'])
      .default('Apply')
      .describe(
        'Apply: reconcile. Plan: observe only and write what the next reconcile would do into ' +
          'status.plannedActions, changing nothing (no finalizer, no Secret, no Rancher write).',
      ),
    deletionPolicy: z
      .enum(['Purge', 'Remove', 'Orphan'])
      .default('Purge')
      .describe(
        'What deleting the ApiKey does to the Rancher key: Purge (deactivate, remove, purge), ' +
          'Remove (deactivate, remove; Rancher purges later) or Orphan (leave it). The Secret is always deleted.',
      ),
  })
  .meta({
    description: 'Desired state of a Rancher API key.',
    'x-kubernetes-validations': [
      {
        rule:
          'has(self.environment) == has(oldSelf.environment) && ' +
          '(!has(self.environment) || self.environment == oldSelf.environment)',
        message: 'environment is immutable; create a new ApiKey instead',
      },
      {
        rule:
          "(has(self.secret) && has(self.secret.name) ? self.secret.name : '') == " +
          "(has(oldSelf.secret) && has(oldSelf.secret.name) ? oldSelf.secret.name : '')",
        message: 'secret.name is immutable',
      },
      {
        rule:
          "(has(self.secret) && has(self.secret.type) ? self.secret.type : 'Opaque') == " +
          "(has(oldSelf.secret) && has(oldSelf.secret.type) ? oldSelf.secret.type : 'Opaque')",
        message:
          'secret.type is immutable: Kubernetes cannot change the type of an existing Secret; create a new ApiKey instead',
      },
      {
        rule: '!has(self.adopt) || (has(oldSelf.adopt) && self.adopt == oldSelf.adopt)',
        message: 'adopt can only be set when the ApiKey is created (it may be removed later)',
      },
    ],
  });

/** ApiKeySpec is the parsed, defaulted spec. */
export type ApiKeySpec = z.infer<typeof ApiKeySpecSchema>;

/** RetiringKeySchema records a Rancher key that is being retired (deactivated, removed, purged). */
export const RetiringKeySchema = z
  .object({
    id: z.string().describe('Rancher id of the key being retired.'),
    publicValue: z.string().describe('Its access key (not a secret).'),
    reason: z.string().describe('Why it is retired: Rotated, SecretLost or Stray.'),
    notBefore: z.string().optional().describe('Retirement starts at this time (the rotation overlap ends).'),
  })
  .describe('A Rancher key that is being retired.');

/** ApiKeyStatusSchema is the observed state the operator reports. */
export const ApiKeyStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The generation this status reflects.'),
    conditions: conditionsSchema(
      'Ready, Reconciling, Stalled, Verified (and Planned in plan mode).',
    ).optional(),
    id: z.string().optional().describe('Rancher id of the key, such as 1c12.'),
    publicValue: z.string().optional().describe('Access key (publicValue) of the key; not a secret.'),
    rancherState: z.string().optional().describe('Rancher state of the key, such as active or inactive.'),
    accountId: z.string().optional().describe('Rancher account or environment that owns the key.'),
    secretName: z.string().optional().describe('Name of the Secret holding the values.'),
    retiring: z.array(RetiringKeySchema).optional().describe('Old keys still being retired in Rancher.'),
    keyCreatedAt: z.string().optional().describe('When the current key was created (RFC 3339).'),
    shard: z
      .string()
      .optional()
      .describe(
        'The operator shard (SHARD_NAME) that claimed this ApiKey and alone acts on it; cleared when it lets go. ' +
          'Unset when the operator runs unsharded.',
      ),
    rotation: z
      .object({
        nextRotationAt: z.string().optional().describe('When the next scheduled rotation is due.'),
        lastRotatedAt: z.string().optional().describe('When the key was last rotated.'),
        lastHandledRotateAt: z
          .string()
          .optional()
          .describe('Value of the rotate-requested-at annotation that was last handled.'),
        history: z
          .array(
            z
              .object({
                id: z.string().describe('Rancher id of the key.'),
                publicValue: z.string().describe('Its access key (not a secret).'),
                event: z
                  .string()
                  .describe('Created, Rotated (replaced by a newer key) or Retired (purged/removed).'),
                at: z.string().describe('When it happened.'),
              })
              .describe('One event in the life of a key.'),
          )
          .optional()
          .describe('The last 10 key events, newest last.'),
      })
      .optional()
      .describe('Rotation schedule and history.'),
    plannedActions: z
      .array(
        z
          .object({
            action: z.string().describe('The action, such as CreateKey or DeactivateKey.'),
            detail: z.string().describe('What it would change.'),
          })
          .describe('One action the next reconcile would take.'),
      )
      .optional()
      .describe('In mode Plan: the actions the next real reconcile would take, in order.'),
    lastHandledReconcileAt: z
      .string()
      .optional()
      .describe('Value of the reconcile-requested-at annotation that was last handled.'),
    adopted: z
      .object({
        id: z.string().describe('Rancher id of the adopted key.'),
        publicValue: z.string().describe('Its access key (not a secret).'),
        at: z.string().describe('When the adoption finished: the Secret held its pair (RFC 3339).'),
      })
      .optional()
      .describe('The existing Rancher key taken over through spec.adopt, once adopted.'),
  })
  .describe('Observed state of the ApiKey.');

/** ApiKeyStatus is the parsed status. */
export type ApiKeyStatus = z.infer<typeof ApiKeyStatusSchema>;

/** ApiKeySchema parses a whole ApiKey object read from the apiserver. */
export const ApiKeySchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: ObjectMetaSchema,
  spec: ApiKeySpecSchema,
  status: ApiKeyStatusSchema.optional(),
});

/** ApiKey is a parsed ApiKey custom resource. */
export type ApiKey = z.infer<typeof ApiKeySchema>;
