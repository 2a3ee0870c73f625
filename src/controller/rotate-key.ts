import { RancherError } from '../rancher/index.ts';
import type { ExecContext, ExecuteDeps } from './execute-context.ts';
import { generatePair } from './key-pair.ts';
import type { PlannedStatus } from './model.ts';
import { readPair } from './secret-data.ts';
import { writeStatus } from './status-writer.ts';

const DOUBTFUL = new Set(['Transport', 'Timeout', 'ServerError', 'NotUnique', 'Conflict']);

/**
 * stageKey creates the next key of a rotation and persists its pair in the staging Secret (never the
 * consumers' Secret): with credentials that may supply values the pair is persisted before the create,
 * otherwise right after it (a crash in between leaves a marked stray that the next pass retires).
 */
export async function stageKey(ctx: ExecContext, supplyValues: boolean): Promise<void> {
  const { client, scope } = ctx.rancher();
  const input = { name: ctx.observation.desiredName, description: ctx.observation.desiredDescription };
  let id: string;
  if (supplyValues) {
    const pair = generatePair();
    await ctx.writeStaging(pair);
    ctx.crash('after-persist-before-create');
    try {
      const response = await client.createKey({ ...input, ...pair }, scope);
      ctx.crash('after-create-before-secret');
      if (response.publicValue !== pair.publicValue && response.secretValue) {
        await ctx.writeStaging({ publicValue: response.publicValue, secretValue: response.secretValue });
      }
      id = response.id;
    } catch (err) {
      if (!(err instanceof RancherError) || !DOUBTFUL.has(err.code)) throw err;
      const found = await client.findKeyByPublicValue(pair.publicValue, scope);
      if (!found) throw err;
      id = found.id;
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
    await ctx.writeStaging({ publicValue: response.publicValue, secretValue: response.secretValue });
    id = response.id;
  }
  await ctx.event(
    'Normal',
    'StagedKey',
    `created Rancher key ${id} to replace the current key (rotation)`,
    'StageKey',
  );
}

/**
 * promoteKey switches consumers to the staged key: it records the new key and the old key's overlap in
 * status first (so a crash cannot lose the overlap), then writes both new values in ONE Secret write,
 * then drops the staging Secret. The old key stays active until its notBefore.
 */
export async function promoteKey(
  ctx: ExecContext,
  deps: ExecuteDeps,
  lastWritten: Map<string, string>,
  status: PlannedStatus,
  ids: { id: string; replaces: string },
): Promise<void> {
  const staging = ctx.liveStaging();
  const pair = staging ? readPair(staging) : undefined;
  if (!pair) throw new Error('cannot promote the staged key: the staging Secret no longer holds its pair');
  await writeStatus(ctx, deps, lastWritten, status);
  await ctx.writeSecret(pair);
  await ctx.deleteStaging();
  const until = status.retiring?.find((r) => r.id === ids.replaces)?.notBefore ?? 'the overlap ends';
  const note = `Secret ${ctx.observation.secretName} now holds Rancher key ${ids.id}; key ${ids.replaces} stays active until ${until}`;
  await ctx.event('Normal', 'RotatedKey', note, 'PromoteKey');
}
