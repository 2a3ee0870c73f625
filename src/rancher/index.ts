export { createRancherClient } from './client.ts';
export { isRetryable, RancherError, type RancherErrorCode } from './errors.ts';
export { INVENTORY_LIST_LIMITS, LOOKUP_LIST_LIMITS, MAX_PAGE_SIZE } from './list-pages.ts';
export type { CreatedRancherApiKey, RancherApiKey, RancherKeyState } from './schemas.ts';
export { RancherApiKeySchema, RancherKeyStateSchema } from './schemas.ts';
export type {
  ApiVersion,
  CreateKeyInput,
  KeyScope,
  ListLimits,
  ListOptions,
  RancherCallReport,
  RancherClient,
  RancherClientOptions,
  RancherCredentials,
  RancherIdentity,
  WaitOptions,
} from './types.ts';
export { parseRancherUrl, type RancherUrlParts } from './urls.ts';
