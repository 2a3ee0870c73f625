import { z } from 'zod';
import { LabelSelectorSchema, ObjectMetaSchema, ObjectNameSchema } from './common.ts';
import { conditionsSchema } from './conditions.ts';

const urlRules = [
  {
    rule: "!self.endsWith('/v1') && !self.endsWith('/v1/') && !self.endsWith('/v2-beta') && !self.endsWith('/v2-beta/')",
    message: 'url is the Rancher base URL without the API version; set spec.version instead',
  },
  {
    rule: "!self.matches('^[^:/?#]+://[^/?#]*@')",
    message:
      'url must not contain user info (user:password@host); put the credentials in the Secret named by spec.credentialsSecretRef',
  },
];

const credentialsFields = {
  name: ObjectNameSchema.describe('Name of the Secret.'),
  accessKeyKey: z.string().min(1).default('accessKey').describe('Data key holding the access key.'),
  secretKeyKey: z.string().min(1).default('secretKey').describe('Data key holding the secret key.'),
};

const orphanPolicy = z
  .enum(['Report', 'Delete'])
  .default('Report')
  .describe(
    'What to do with orphan keys (keys carrying this operator’s ownership marker whose ApiKey no longer exists): ' +
      'Report lists them in status, a metric and an Event; Delete also deactivates, removes and purges them.',
  );

const endpointFields = {
  orphanPolicy,
  url: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/)
    .meta({
      description: 'Rancher server base URL, such as https://rancher.example.com (no /v1 suffix).',
      'x-kubernetes-validations': urlRules,
    }),
  version: z.enum(['v1', 'v2-beta']).default('v1').describe('Rancher API version: v1 (default) or v2-beta.'),
  caBundle: z
    .string()
    .max(65536)
    .optional()
    .describe(
      'PEM CA bundle to trust for the Rancher server, in addition to the system roots (Node’s bundled ' +
        'Mozilla roots and NODE_EXTRA_CA_CERTS) and spec.caBundleRef.',
    ),
};

const caBundleRefFields = {
  kind: z
    .enum(['Secret', 'ConfigMap'])
    .describe('Kind of the object holding the CA bundle: Secret or ConfigMap.'),
  name: ObjectNameSchema.describe('Name of the Secret or ConfigMap.'),
  key: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[-._a-zA-Z0-9]+$/)
    .describe('Data key holding the PEM bundle, such as ca.crt.'),
};

const caBundleRefText =
  'A Secret or ConfigMap key holding a PEM CA bundle to trust for the Rancher server, in addition to the ' +
  'system roots and spec.caBundle. It is read again at every check of the connection (within seconds while ' +
  'it is not Ready), so a renewed CA is picked up without a change here; a missing object or key, or text ' +
  'that is not PEM certificates, leaves the connection not Ready with reason CABundleNotFound or CABundleInvalid.';

// An environment URL names its API version: it must be spec.version (a v2-beta schemas URL with the default v1
// would otherwise be refused only when the operator reads it).
const versionRules = (['v1', 'v2-beta'] as const).map((v) => ({
  rule: `!self.url.matches('^[^?#]*/${v}/projects/[A-Za-z0-9]+(/schemas(/[^/]*)?)?/?$') || (has(self.version) && self.version == '${v}')`,
  message: `url is a ${v} environment URL (…/${v}/projects/<id>[/schemas]): set spec.version: ${v}`,
}));

/** RancherConnectionSpecSchema is a namespaced Rancher endpoint with credentials from a Secret in the same namespace. */
export const RancherConnectionSpecSchema = z
  .object({
    ...endpointFields,
    credentialsSecretRef: z
      .object(credentialsFields)
      .describe('Secret in the same namespace holding the Rancher access key and secret key.'),
    caBundleRef: z
      .object(caBundleRefFields)
      .optional()
      .describe(
        `${caBundleRefText} It is read in the connection’s own namespace (there is no namespace field).`,
      ),
  })
  .meta({ 'x-kubernetes-validations': versionRules })
  .describe('A Rancher server and the credentials used to manage API keys on it.');

/** ClusterRancherConnectionSpecSchema is a cluster-wide connection and the namespaces allowed to use it. */
export const ClusterRancherConnectionSpecSchema = z
  .object({
    ...endpointFields,
    credentialsSecretRef: z
      .object({
        ...credentialsFields,
        namespace: ObjectNameSchema.describe(
          'Namespace of the Secret. It must be the operator namespace; any other namespace is refused.',
        ),
      })
      .describe('Secret holding the Rancher access key and secret key.'),
    caBundleRef: z
      .object({
        ...caBundleRefFields,
        namespace: ObjectNameSchema.describe(
          'Namespace of the Secret or ConfigMap. It must be the operator namespace (as for the credentials): ' +
            'whoever may write the CA decides whom the cluster credentials are sent to.',
        ),
      })
      .optional()
      .describe(caBundleRefText),
    allowedNamespaces: z
      .object({
        names: z
          .array(ObjectNameSchema.describe('A namespace name.'))
          .optional()
          .describe('Namespaces allowed by name.'),
        selector: LabelSelectorSchema.optional().describe('Namespaces allowed by label.'),
      })
      .optional()
      .describe('Namespaces whose ApiKeys may use this connection. Omitted or empty: none may.'),
    allowedEnvironments: z
      .array(
        z
          .string()
          .regex(/^(\*|1[a-z]+[0-9]+)$/)
          .describe('A Rancher environment (project) id such as 1a5, or "*" for any environment.'),
      )
      .max(256)
      .optional()
      .describe(
        'Environments (project ids such as 1a5) in which the allowed namespaces may create environment keys; ' +
          '"*" allows any environment. Omitted or empty: no environment key may be created.',
      ),
    allowAccountKeys: z
      .boolean()
      .default(false)
      .describe(
        'Whether the allowed namespaces may create account keys (ApiKeys without spec.environment), which act ' +
          'with the whole Rancher account of these credentials. Default false.',
      ),
  })
  .meta({ 'x-kubernetes-validations': versionRules })
  .describe('A cluster-wide Rancher server connection shared by the allowed namespaces.');

/** ConnectionStatusSchema reports whether the credentials work and whose they are. */
export const ConnectionStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The generation this status reflects.'),
    conditions: conditionsSchema('Ready says whether the credentials work.').optional(),
    accountId: z.string().optional().describe('Rancher account the credentials belong to.'),
    accountKind: z.string().optional().describe('Kind of that account: admin, user or project.'),
    canSupplyValues: z
      .boolean()
      .optional()
      .describe('Whether the credentials may supply key values (admin), enabling the idempotent create.'),
    orphans: z
      .object({
        count: z.int().min(0).describe('How many orphan keys were found at the last inventory.'),
        keys: z
          .array(
            z
              .object({
                id: z.string().describe('Rancher id of the orphan key.'),
                publicValue: z.string().describe('Its access key (not a secret).'),
                apiKey: z.string().describe('namespace/name of the ApiKey it belonged to.'),
                environment: z.string().optional().describe('Environment id, for an environment key.'),
              })
              .describe('An orphan key.'),
          )
          .describe('Up to 20 of them.'),
      })
      .optional()
      .describe('Keys with this operator’s ownership marker that belong to no live ApiKey in its scope.'),
  })
  .describe('Observed state of the connection.');

/** RancherConnectionSpec is a parsed RancherConnection spec. */
export type RancherConnectionSpec = z.infer<typeof RancherConnectionSpecSchema>;
/** ClusterRancherConnectionSpec is a parsed ClusterRancherConnection spec. */
export type ClusterRancherConnectionSpec = z.infer<typeof ClusterRancherConnectionSpecSchema>;
/** ConnectionStatus is a parsed connection status. */
export type ConnectionStatus = z.infer<typeof ConnectionStatusSchema>;

/** RancherConnectionSchema parses a RancherConnection object. */
export const RancherConnectionSchema = z.object({
  metadata: ObjectMetaSchema,
  spec: RancherConnectionSpecSchema,
  status: ConnectionStatusSchema.optional(),
});
/** ClusterRancherConnectionSchema parses a ClusterRancherConnection object. */
export const ClusterRancherConnectionSchema = z.object({
  metadata: ObjectMetaSchema,
  spec: ClusterRancherConnectionSpecSchema,
  status: ConnectionStatusSchema.optional(),
});
/** RancherConnection is a parsed RancherConnection. */
export type RancherConnection = z.infer<typeof RancherConnectionSchema>;
/** ClusterRancherConnection is a parsed ClusterRancherConnection. */
export type ClusterRancherConnection = z.infer<typeof ClusterRancherConnectionSchema>;
