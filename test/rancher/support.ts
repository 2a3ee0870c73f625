import {
  type ApiVersion,
  createRancherClient,
  type KeyScope,
  type RancherClient,
  type RancherClientOptions,
} from '../../src/rancher/index.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.ts';

/** Who selects the seeded emulator credentials a client uses. */
export type Who = 'admin' | 'user';

/** clientFor builds a client for the emulator with the seeded admin or user key. */
export function clientFor(
  emu: Emulator,
  who: Who,
  version: ApiVersion,
  overrides: Partial<RancherClientOptions> = {},
): RancherClient {
  const seeded = emu[who];
  return createRancherClient({
    url: emu.url,
    version,
    credentials: { accessKey: seeded.accessKey, secretKey: seeded.secretKey },
    retryBackoffMs: 10,
    ...overrides,
  });
}

/** startTestEmulator starts an emulator whose removed keys are not purged during a test. */
export function startTestEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ transitionDelayMs: 30, autoPurgeDelayMs: 3_600_000, ...opts });
}

/** SCOPES are the two key scopes every lifecycle test runs in: account and environment 1a5. */
export const SCOPES: ReadonlyArray<[string, KeyScope | undefined]> = [
  ['account scope', undefined],
  ['environment scope', { environment: '1a5' }],
];

/** VERSIONS are both API versions. */
export const VERSIONS: readonly ApiVersion[] = ['v1', 'v2-beta'];

/** randomPublicValue returns a fresh 20-character uppercase hex access key. */
export function randomPublicValue(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(10)))
    .toString('hex')
    .toUpperCase();
}

/** randomSecretValue returns a fresh 40-character secret in Rancher's alphabet. */
export function randomSecretValue(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789';
  return Array.from(crypto.getRandomValues(new Uint8Array(40)), (b) => alphabet[b % alphabet.length]).join(
    '',
  );
}
