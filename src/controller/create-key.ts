import type { RancherApiKey } from '../rancher/index.ts';
import { RancherError } from '../rancher/index.ts';
import type { ExecContext } from './execute-context.ts';
import { generatePair } from './key-pair.ts';

const DOUBTFUL = new Set(['Transport', 'Timeout', 'ServerError', 'NotUnique', 'Conflict']);

/**
 * createKey makes the Rancher key without ever leaving an orphan or losing a secret.
 * With credentials that may supply values it generates the pair, persists it in the Secret
 * FIRST, then creates; on any doubt it finds the key by publicValue instead of creating again.
 * Otherwise it creates, then writes both values in one Secret write; a crash in between leaves a
 * key carrying the ownership marker, which the next pass retires as a stray.
 */
export async function createKey(ctx: ExecContext, supplyValues: boolean): Promise<RancherApiKey> {
  const { client, scope } = ctx.rancher();
  const input = { name: ctx.observation.desiredName, description: ctx.observation.desiredDescription };
  let created: RancherApiKey;
  if (supplyValues) {
    const pair = generatePair();
    await ctx.writeSecret(pair);
    ctx.crash('after-persist-before-create');
    try {
      const response = await client.createKey({ ...input, ...pair }, scope);
      ctx.crash('after-create-before-secret');
      if (response.publicValue !== pair.publicValue) {
        // Rancher dropped the supplied values (not an admin after all): keep what it returned.
        if (!response.secretValue)
          throw new RancherError(
            'InvalidResponse',
            'cannot create Rancher key: the create response has no secret value',
          );
        await ctx.writeSecret({ publicValue: response.publicValue, secretValue: response.secretValue });
      }
      created = response;
    } catch (err) {
      if (!(err instanceof RancherError) || !DOUBTFUL.has(err.code)) throw err;
      const found = await client.findKeyByPublicValue(pair.publicValue, scope);
      if (!found) throw err;
      created = found;
    }
  } else {
    const response = await client.createKey(input, scope);
    if (!response.secretValue) {
      throw new RancherError(
        'InvalidResponse',
        'cannot create Rancher key: the create response has no secret value',
      );
    }
    ctx.crash('after-create-before-secret');
    await ctx.writeSecret({ publicValue: response.publicValue, secretValue: response.secretValue });
    created = response;
  }
  await ctx.event(
    'Normal',
    'CreatedKey',
    `created Rancher key ${created.id} (access key ${created.publicValue})`,
    'CreateKey',
  );
  return (await client.waitForTransition(created, { timeoutMs: 3_000, intervalMs: 50 })) ?? created;
}
