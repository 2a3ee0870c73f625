import { uidFromDescription } from '../../marker.ts';
import type { ExecContext } from '../execute/context.ts';
import type { KeyPair } from '../secret-data.ts';

/**
 * adoptKey takes over an existing Rancher key: it gives the key this ApiKey's name and description (with the
 * ownership marker), confirms the marker stuck, then writes the pair to the output Secret in one write. A crash
 * between the two leaves a key carrying this ApiKey's marker, which the next pass adopts again (the pair still
 * authenticates), never retires.
 */
export async function adoptKey(ctx: ExecContext, pair: KeyPair | undefined, id: string): Promise<void> {
  const key = ctx.key(id);
  if (!pair || pair.publicValue !== key.publicValue)
    throw new Error(`cannot adopt Rancher key ${id}: its pair was not read in this pass`);
  const { client, scope } = ctx.rancher();
  const want = { name: ctx.observation.desiredName, description: ctx.observation.desiredDescription };
  if (key.name !== want.name || (key.description ?? '') !== want.description) {
    const updated = await client.updateKey(key, want);
    await client.waitForTransition(updated, { timeoutMs: 2_000, intervalMs: 50 }).catch(() => undefined);
  }
  // Two ApiKeys given the same pair could race for one key: only the one whose marker Rancher kept writes its Secret.
  const after = await client.getKey(id, scope);
  if (uidFromDescription(after?.description ?? null) !== ctx.apiKey.metadata.uid)
    throw new Error(`cannot adopt Rancher key ${id}: it does not carry this ApiKey's ownership marker`);
  await ctx.writeSecret(pair);
  await ctx.event(
    'Normal',
    'AdoptedKey',
    `adopted Rancher key ${id} (access key ${key.publicValue}); its values are in Secret ${ctx.observation.secretName}`,
    'AdoptKey',
  );
}
