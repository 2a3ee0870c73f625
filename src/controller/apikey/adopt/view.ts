import type { ApiKey } from '../../../api/apikey.ts';

/**
 * adoptionPending reports an ApiKey whose spec.adopt has not been carried out: no key was adopted yet and status
 * records no key of its own (the adopted key becomes status.id only once the Secret holds its pair).
 */
export function adoptionPending(apiKey: ApiKey): boolean {
  return apiKey.spec.adopt !== undefined && !apiKey.status?.adopted && !apiKey.status?.id;
}
