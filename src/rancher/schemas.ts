import { z } from 'zod';

/** RancherKeyStateSchema lists every state of a Rancher 1.x credential (reference §3). */
export const RancherKeyStateSchema = z.enum([
  'requested',
  'registering',
  'activating',
  'active',
  'deactivating',
  'inactive',
  'updating-active',
  'updating-inactive',
  'removing',
  'removed',
  'purging',
  'purged',
]);

/** RancherKeyState is the lifecycle state of a Rancher API key. */
export type RancherKeyState = z.infer<typeof RancherKeyStateSchema>;

const nullableString = z.string().nullable().default(null);
const linkMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((v) => v ?? {});

/**
 * RancherApiKeySchema parses the apiKey wire object. Unknown keys are stripped, and so is `secretValue`:
 * action responses may carry its stored hash, and nothing but the create response may hold the secret.
 */
export const RancherApiKeySchema = z.object({
  id: z.string().min(1),
  name: nullableString,
  description: nullableString,
  state: RancherKeyStateSchema,
  transitioning: z.enum(['yes', 'no', 'error']).default('no'),
  accountId: z.string(),
  publicValue: z.string(),
  created: nullableString,
  removed: nullableString,
  actions: linkMap,
  links: linkMap,
});

/** RancherApiKey is the parsed apiKey wire object; it never holds a secretValue. */
export type RancherApiKey = z.infer<typeof RancherApiKeySchema>;

/** CreatedRancherApiKeySchema parses a create response, the only one whose secretValue is the clear secret. */
export const CreatedRancherApiKeySchema = RancherApiKeySchema.extend({ secretValue: nullableString });

/** CreatedRancherApiKey is a freshly created key with its one-time secretValue (null if none was set). */
export type CreatedRancherApiKey = z.infer<typeof CreatedRancherApiKeySchema>;

/** CollectionSchema parses a GDAPI collection envelope; items are parsed one by one by the caller. */
export const CollectionSchema = z.object({
  data: z.array(z.unknown()),
  pagination: z
    .object({ next: z.string().nullable().default(null), partial: z.boolean().nullable().default(null) })
    .nullable()
    .default(null),
});

/** ApiKeySchemaResourceSchema parses `/schemas/apikey`, keeping only what identity() needs. */
export const ApiKeySchemaResourceSchema = z.object({
  resourceFields: z.record(z.string(), z.object({ create: z.boolean().default(false) })).default({}),
});

/** IdentityHeadersSchema parses the account headers Rancher puts on every authenticated response. */
export const IdentityHeadersSchema = z.object({
  'x-api-account-id': z.string().min(1),
  'x-api-account-kind': z.string().min(1).default('unknown'),
});
