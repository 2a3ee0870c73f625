import { setTimeout as sleep } from 'node:timers/promises';
import type { RancherApiKey } from '../../../rancher/index.ts';
import { RancherError } from '../../../rancher/index.ts';
import { generatePair } from '../key-pair.ts';
import { type KeyPair, readPair } from '../secret-data.ts';
import type { ExecContext } from './context.ts';

const DOUBTFUL = new Set(['Transport', 'Timeout', 'ServerError', 'NotUnique', 'Conflict']);

const noSecret = () =>
  new RancherError('InvalidResponse', 'cannot create Rancher key: the create response has no secret value');

/**
 * createPersisted makes a Rancher key whose pair ends up in `persist` (the output Secret, or the
 * rotation staging Secret) without ever leaving an orphan or losing a secret. With credentials that
 * may supply values it generates the pair and persists it FIRST, then creates; on any doubt it finds
 * the key by publicValue instead of creating again. Otherwise it creates, then persists both values
 * in one write; a crash in between leaves a key carrying the ownership marker, retired as a stray.
 * `afterPersist` runs between the persist and the create of the supplied-values path (the finalizer of a
 * brand-new ApiKey whose Secret was not read: see unread-secrets.ts).
 */
export async function createPersisted(
  ctx: ExecContext,
  supplyValues: boolean,
  persist: (pair: KeyPair) => Promise<void>,
  afterPersist?: () => Promise<void>,
): Promise<RancherApiKey> {
  const { client, scope } = ctx.rancher();
  const input = { name: ctx.observation.desiredName, description: ctx.observation.desiredDescription };
  if (!supplyValues) {
    const response = await ctx.creating(() => client.createKey(input, scope));
    if (!response.secretValue) throw noSecret();
    ctx.crash('after-create-before-secret');
    await persist({ publicValue: response.publicValue, secretValue: response.secretValue });
    return response;
  }
  const pair = generatePair();
  await persist(pair);
  await afterPersist?.();
  ctx.crash('after-persist-before-create');
  try {
    const response = await ctx.creating(() => client.createKey({ ...input, ...pair }, scope));
    ctx.crash('after-create-before-secret');
    if (response.publicValue !== pair.publicValue) {
      // Rancher dropped the supplied values (not an admin after all): keep what it returned.
      if (!response.secretValue) throw noSecret();
      await persist({ publicValue: response.publicValue, secretValue: response.secretValue });
    }
    return response;
  } catch (err) {
    if (!(err instanceof RancherError) || !DOUBTFUL.has(err.code)) throw err;
    const found = await client.findKeyByPublicValue(pair.publicValue, scope);
    if (!found) throw err;
    return found;
  }
}

/** CreatedKey is the key CreateKey made, as last seen, and whether its pair was proven to authenticate. */
export interface CreatedKey {
  key: RancherApiKey;
  /** true when the read that saw the key active was made with the key's own pair from the Secret. */
  verified?: true;
}

/** ACTIVATION_LOOK_MS: Cattle activates a new key in milliseconds (reference §3); look after 30 ms, as retirement does. */
const ACTIVATION_LOOK_MS = 30;

/**
 * createKey creates the ApiKey's key with its values in the output Secret, then waits until Rancher activated
 * it. The first look is made with the pair the Secret now holds: Rancher authenticates only an active key, so
 * one answer shows the key active and proves the pair (no separate verification). A 401 (not active yet), a
 * 403 or 404, or any failure falls back to the connection's own reads, and the pass verifies the pair after.
 */
export async function createKey(
  ctx: ExecContext,
  supplyValues: boolean,
  afterPersist?: () => Promise<void>,
): Promise<CreatedKey> {
  const created = await createPersisted(ctx, supplyValues, (pair) => ctx.writeSecret(pair), afterPersist);
  const note = `created Rancher key ${created.id} (access key ${created.publicValue})`;
  await ctx.event('Normal', 'CreatedKey', note, 'CreateKey');
  const { client } = ctx.rancher();
  const live = ctx.liveSecret();
  const pair = live ? readPair(live) : undefined;
  if (pair?.publicValue === created.publicValue) {
    if (created.transitioning === 'yes') await sleep(ACTIVATION_LOOK_MS);
    const credentials = { accessKey: pair.publicValue, secretKey: pair.secretValue };
    const seen = await client.readKeyAs(created, credentials).catch(() => undefined);
    if (typeof seen === 'object' && seen.id === created.id && seen.transitioning !== 'yes') {
      return { key: seen, verified: true };
    }
  }
  const wait = { timeoutMs: 3_000, intervalMs: ACTIVATION_LOOK_MS };
  return { key: (await client.waitForTransition(created, wait)) ?? created };
}
