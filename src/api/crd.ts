import { z } from 'zod';
import { ApiKeySpecSchema, ApiKeyStatusSchema } from './apikey.ts';
import {
  ClusterRancherConnectionSpecSchema,
  ConnectionStatusSchema,
  RancherConnectionSpecSchema,
} from './connection.ts';
import { GROUP, KINDS, VERSION } from './names.ts';

/** JsonSchema is a JSON Schema node as produced by zod and accepted by Kubernetes. */
export type JsonSchema = { [key: string]: unknown };

const UNSUPPORTED = ['$schema', '$ref', 'definitions', '$defs', 'id', 'patternProperties', 'dependencies'];

function isNode(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * toStructuralSchema converts zod's OpenAPI 3.0 JSON Schema into a Kubernetes structural schema:
 * `additionalProperties` next to `properties` is dropped, unsupported keywords are removed,
 * JavaScript's safe-integer bounds are removed, and every node keeps a `type`.
 */
export function toStructuralSchema(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (UNSUPPORTED.includes(key)) continue;
    if (key === 'properties' && isNode(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, isNode(v) ? toStructuralSchema(v) : v]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isNode(value)) {
      out[key] = toStructuralSchema(value);
    } else {
      out[key] = value;
    }
  }
  if (out.properties !== undefined) delete out.additionalProperties;
  if (out.additionalProperties === false) delete out.additionalProperties;
  if (out.type === 'integer') {
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  }
  if (out.type === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`cannot convert schema node without a type: ${JSON.stringify(node).slice(0, 200)}`);
  }
  return out;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return toStructuralSchema(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as JsonSchema);
}

interface CrdInput {
  names: (typeof KINDS)[keyof typeof KINDS];
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: { name: string; type: string; jsonPath: string; description: string; priority?: number }[];
}

function buildCrd(input: CrdInput): JsonSchema {
  const { names } = input;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: names.scope,
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: input.shortNames,
        categories: ['rancher'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: input.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this object.' },
                kind: { type: 'string', description: 'Kind of this object.' },
                metadata: { type: 'object' },
                spec: jsonSchemaOf(input.spec),
                status: jsonSchemaOf(input.status),
              },
            },
          },
        },
      ],
    },
  };
}

const readyColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the resource is ready.',
};
const reasonColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: 'Why the resource is (not) ready: the Ready condition reason.',
};
const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' };

/** apiKeyColumns are the ApiKey printer columns; priority 1 ones appear only with `kubectl get -o wide`. */
const apiKeyColumns = [
  { name: 'Rancher ID', type: 'string', jsonPath: '.status.id', description: 'Rancher id of the key.' },
  { name: 'State', type: 'string', jsonPath: '.status.rancherState', description: 'Rancher state.' },
  readyColumn,
  reasonColumn,
  { name: 'Secret', type: 'string', jsonPath: '.status.secretName', description: 'Output Secret.' },
  ageColumn,
  {
    name: 'Connection',
    type: 'string',
    jsonPath: '.spec.connectionRef.name',
    description: 'The connection that manages the key.',
    priority: 1,
  },
  {
    name: 'Verified',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Verified")].status',
    description: 'Whether the Secret’s pair authenticates against Rancher.',
    priority: 1,
  },
  {
    // A string, not a date: kubectl prints a date column as an age, which a future time does not have.
    name: 'Next Rotation',
    type: 'string',
    jsonPath: '.status.rotation.nextRotationAt',
    description: 'When the next scheduled rotation is due.',
    priority: 1,
  },
  {
    name: 'Shard',
    type: 'string',
    jsonPath: '.status.shard',
    description: 'The operator shard that reconciles the ApiKey (sharded installs only).',
    priority: 1,
  },
];

/** buildCrds returns the three CustomResourceDefinitions, generated from the zod schemas. */
export function buildCrds(): JsonSchema[] {
  const connectionColumns = [
    { name: 'URL', type: 'string', jsonPath: '.spec.url', description: 'Rancher URL.' },
    {
      name: 'Account',
      type: 'string',
      jsonPath: '.status.accountId',
      description: 'Account of the credentials.',
    },
    readyColumn,
    reasonColumn,
    ageColumn,
  ];
  return [
    buildCrd({
      names: KINDS.ApiKey,
      shortNames: ['rak'],
      description:
        'ApiKey is a Rancher 1.x API key managed by rancher-apikey-operator; its values go to a Secret.',
      spec: ApiKeySpecSchema,
      status: ApiKeyStatusSchema,
      columns: apiKeyColumns,
    }),
    buildCrd({
      names: KINDS.RancherConnection,
      shortNames: ['rconn'],
      description:
        'RancherConnection is a Rancher server and credentials usable by ApiKeys in its namespace.',
      spec: RancherConnectionSpecSchema,
      status: ConnectionStatusSchema,
      columns: connectionColumns,
    }),
    buildCrd({
      names: KINDS.ClusterRancherConnection,
      shortNames: ['crconn'],
      description:
        'ClusterRancherConnection is a Rancher server and credentials shared by allowed namespaces.',
      spec: ClusterRancherConnectionSpecSchema,
      status: ConnectionStatusSchema,
      columns: connectionColumns,
    }),
  ];
}
