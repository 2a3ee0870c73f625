import type { PlannedStatus } from '../model.ts';
import { readPair } from '../secret-data.ts';
import type { ExecContext, ExecuteDeps } from './context.ts';
import { createPersisted } from './create-key.ts';
import { writeStatus } from './status-writer.ts';

/**
 * stageKey creates the next key of a rotation and persists its pair in the staging Secret (never the
 * consumers' Secret), with the same crash-safety as a first create (see createPersisted).
 */
export async function stageKey(ctx: ExecContext, supplyValues: boolean): Promise<void> {
  const staged = await createPersisted(ctx, supplyValues, (pair) => ctx.writeStaging(pair));
  await ctx.event(
    'Normal',
    'StagedKey',
    `created Rancher key ${staged.id} to replace the current key (rotation)`,
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
