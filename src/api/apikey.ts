import { z } from 'zod';
import { ObjectMetaSchema, ObjectNameSchema } from './common.ts';
import { ConditionSchema } from './conditions.ts';

const DataKeySchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/);

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
  })
  .describe('Where and how the key values are written.');

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
    description: z.string().max(1024).optional().describe('Description of the key in Rancher.'),
    state: z
      .enum(['Active', 'Inactive'])
      .default('Active')
      .describe('Desired Rancher state: Active keys authenticate, Inactive keys do not.'),
    secret: SecretOutputSchema.optional(),
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
    ],
  });

/** ApiKeySpec is the parsed, defaulted spec. */
export type ApiKeySpec = z.infer<typeof ApiKeySpecSchema>;

/** RetiringKeySchema records a Rancher key that is being retired (deactivated, removed, purged). */
export const RetiringKeySchema = z
  .object({
    id: z.string().describe('Rancher id of the key being retired.'),
    publicValue: z.string().describe('Its access key (not a secret).'),
    reason: z.string().describe('Why it is retired: SecretLost, Replaced or Stray.'),
  })
  .describe('A Rancher key that is being retired.');

/** ApiKeyStatusSchema is the observed state the operator reports. */
export const ApiKeyStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The generation this status reflects.'),
    conditions: z.array(ConditionSchema).optional().describe('Ready, Reconciling, Stalled.'),
    id: z.string().optional().describe('Rancher id of the key, such as 1c12.'),
    publicValue: z.string().optional().describe('Access key (publicValue) of the key; not a secret.'),
    rancherState: z.string().optional().describe('Rancher state of the key, such as active or inactive.'),
    accountId: z.string().optional().describe('Rancher account or environment that owns the key.'),
    secretName: z.string().optional().describe('Name of the Secret holding the values.'),
    retiring: z.array(RetiringKeySchema).optional().describe('Old keys still being retired in Rancher.'),
    lastHandledReconcileAt: z
      .string()
      .optional()
      .describe('Value of the reconcile-requested-at annotation that was last handled.'),
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
