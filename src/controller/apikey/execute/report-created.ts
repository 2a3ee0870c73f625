import { toKeyView } from '../key-view.ts';
import type { Observed } from '../observe.ts';
import { statusAfterCreate } from '../plan/after-create.ts';
import { readPair } from '../secret-data.ts';
import { type ExecuteDeps, makeContext } from './context.ts';
import type { CreatedKey } from './create-key.ts';
import { writeStatus } from './status-writer.ts';

/**
 * reportCreated writes, in the pass that created a key, the status the planner derives for it, after
 * proving the Secret holds the new pair and (for an active key) that the pair authenticates: a new ApiKey
 * is Ready in one pass and four apiserver writes. It returns false when nothing was written (the next
 * pass, at once, reports the key instead).
 *
 * The executor does not re-plan: the I/O stays here (the Secret it wrote, one verifyKey unless CreateKey's read of the key already used its pair) and the decision
 * comes from statusAfterCreate, a pure planner function the executor calls with the created key. Leaving
 * the report to the next pass instead would cost that pass's Rancher reads and delay Ready.
 */
export async function reportCreated(
  observed: Observed,
  { key: created, verified: proven }: CreatedKey,
  secretAfter: Observed['liveSecret'],
  deps: ExecuteDeps,
  lastWritten: Map<string, string>,
): Promise<boolean> {
  const r = observed.observation.rancher;
  if (!r.checked || 'error' in r || !observed.client) return false;
  const pair = secretAfter ? readPair(secretAfter) : undefined;
  if (!pair || pair.publicValue !== created.publicValue) return false;
  const verified =
    created.state !== 'active'
      ? undefined
      : (proven ??
        (await observed.client.verifyKey(
          { accessKey: pair.publicValue, secretKey: pair.secretValue },
          observed.scope,
        )));
  const status = statusAfterCreate(observed.observation, toKeyView(created), verified);
  if (!status) return false;
  await writeStatus(makeContext(observed, deps), deps, lastWritten, status);
  return true;
}
