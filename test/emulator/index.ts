import type { AddressInfo } from 'node:net';
import { DEFAULT_PROJECT_ID, Directory, OTHER_PROJECT_ID } from './directory.ts';
import { type ActiveFault, FaultRegistry, type FaultRule, FaultRuleSchema } from './faults.ts';
import { KeyStore } from './key-store.ts';
import { generatePublicValue, generateSecretValue, hashSecret } from './keygen.ts';
import { type Account, type InspectedKey, inspectKey } from './model.ts';
import { RequestCounter, type RequestCounts } from './request-counter.ts';
import { createEmulatorServer } from './server.ts';

export type { ActiveFault, FaultRule } from './faults.ts';
export type { InspectedKey, KeyState } from './model.ts';
export type { RequestCounts } from './request-counter.ts';

/** EmulatorOptions configure the address, the speed of transitions, the automatic purge and the seeded keys. */
export interface EmulatorOptions {
  port?: number;
  host?: string;
  transitionDelayMs?: number;
  autoPurgeDelayMs?: number | 'rancher';
  seed?: { adminAccessKey?: string; adminSecretKey?: string; userAccessKey?: string; userSecretKey?: string };
  /** Serve HTTPS with this key and certificate (PEM); `url` is then https://. */
  tls?: { key: string; cert: string };
}

/** SeededKey is an account and its active key's clear values. */
export interface SeededKey {
  accountId: string;
  accessKey: string;
  secretKey: string;
}

/** Emulator is a running Rancher 1.x apiKey emulator with its inspection and fault controls. */
export interface Emulator {
  url: string;
  admin: SeededKey;
  user: SeededKey;
  environments: { id: string; name: string }[];
  keys(): InspectedKey[];
  requests(): RequestCounts;
  resetRequests(): void;
  setFault(rule: FaultRule): string;
  /** faults lists every rule set since the last clearFaults (used-up ones with remaining 0) with its hits. */
  faults(): ActiveFault[];
  clearFaults(): void;
  close(): Promise<void>;
}

/** RANCHER_MAX_PURGE_DELAY_MS is Rancher's largest random delay between remove and the automatic purge (600 s). */
export const RANCHER_MAX_PURGE_DELAY_MS = 600_000;

function purgeDelay(option: number | 'rancher' | undefined): () => number {
  if (option === undefined || option === 'rancher')
    return () => Math.floor(Math.random() * RANCHER_MAX_PURGE_DELAY_MS);
  if (!Number.isFinite(option) || option < 0)
    throw new RangeError('autoPurgeDelayMs must be >= 0 or "rancher"');
  return () => option;
}

function seedKey(
  keys: KeyStore,
  account: Account,
  access: string | undefined,
  secret: string | undefined,
): SeededKey {
  const accessKey = access ?? generatePublicValue();
  const secretKey = secret ?? generateSecretValue();
  if (keys.hasLivePublicValue(accessKey))
    throw new Error('seeded access keys must differ (case-insensitively)');
  const name = `seed-${account.kind}`;
  keys.insert(
    {
      accountId: account.id,
      name,
      description: null,
      publicValue: accessKey,
      secretHash: hashSecret(secretKey),
    },
    'active',
  );
  return { accountId: account.id, accessKey, secretKey };
}

function listen(
  server: ReturnType<typeof createEmulatorServer>,
  port: number,
  host: string,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('emulator has no TCP address'));
      else resolve(address);
    });
  });
}

/** startEmulator starts an emulator on loopback (random port by default) with a seeded admin and user key, both active. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const transitionDelayMs = opts.transitionDelayMs ?? 20;
  if (!Number.isFinite(transitionDelayMs) || transitionDelayMs < 0)
    throw new RangeError('transitionDelayMs must be >= 0');
  const now = () => Date.now();
  const directory = new Directory(now());
  const keys = new KeyStore({ transitionDelayMs, autoPurgeDelayMs: purgeDelay(opts.autoPurgeDelayMs), now });
  const seed = opts.seed ?? {};
  const admin = seedKey(keys, directory.admin, seed.adminAccessKey, seed.adminSecretKey);
  const user = seedKey(keys, directory.user, seed.userAccessKey, seed.userSecretKey);
  const counter = new RequestCounter();
  const faults = new FaultRegistry();
  let authority = `${host}:${opts.port ?? 0}`;
  const server = createEmulatorServer({
    api: { keys, directory, now },
    inspection: { keys, counter, faults },
    counter,
    faults,
    fallbackHost: () => authority,
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  const address = await listen(server, opts.port ?? 0, host);
  authority = `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${authority}`,
    admin,
    user,
    environments: directory.projects().map((p) => ({ id: p.id, name: p.name })),
    keys: () => [...keys.all()].map(inspectKey),
    requests: () => counter.snapshot(),
    resetRequests: () => counter.reset(),
    setFault: (rule) => faults.add(FaultRuleSchema.parse(rule)),
    faults: () => faults.list(),
    clearFaults: () => faults.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        keys.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { DEFAULT_PROJECT_ID, OTHER_PROJECT_ID };
