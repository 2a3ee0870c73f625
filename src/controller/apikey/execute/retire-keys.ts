import type { RancherApiKey, RancherClient } from '../../../rancher/index.ts';
import { toKeyView } from '../key-view.ts';
import type { Action } from '../model.ts';
import { retireStep } from '../plan/steps.ts';
import type { ExecContext } from './context.ts';

type RetireKeys = Extract<Action, { type: 'RetireKeys' }>;

/**
 * TRANSITION_WAIT is how long one pass waits for Rancher to finish a transition before the next step. Cattle
 * finishes a credential transition in milliseconds (reference §3), so it looks again after 30 ms.
 */
const TRANSITION_WAIT = { timeoutMs: 2_000, intervalMs: 30 } as const;

const DONE_WORD: Record<string, string> = {
  DeactivateKey: 'deactivated',
  RemoveKey: 'removed',
  PurgeKey: 'purged',
};

/**
 * retireKeys runs every retirement step of each key in this one pass: each Rancher response (or one poll
 * while it transitions) gives the state the next step starts from, so a deletion costs no re-read between
 * steps and never waits for a turn of the queue. The final step counts once Rancher accepted it (its
 * transition ends in milliseconds and nothing follows it). Returns false when a key is still transitioning
 * after the wait: the pass then stops before the Secret and the finalizer, and the next one goes on.
 * Reports one Event for the whole retirement.
 */
export async function retireKeys(ctx: ExecContext, action: RetireKeys): Promise<boolean> {
  const { client } = ctx.rancher();
  const retired: string[] = [];
  for (const id of action.ids) {
    const steps = await retireOne(ctx, client, ctx.key(id), action.stopAtRemoved);
    if (steps === undefined) return false;
    retired.push(`${id} ${steps.length > 0 ? steps.join(', ') : 'already retired'}`);
  }
  const policy = action.stopAtRemoved ? 'Remove' : 'Purge';
  await ctx.event(
    'Normal',
    'RetiredKey',
    `Rancher key ${retired.join('; ')} (deletionPolicy ${policy})`,
    'RetireKeys',
  );
  return true;
}

/** retireOne drives one key to its end state; the steps it took, or undefined while Rancher is still busy. */
async function retireOne(
  ctx: ExecContext,
  client: RancherClient,
  start: RancherApiKey,
  stopAtRemoved: boolean,
): Promise<string[] | undefined> {
  const steps: string[] = [];
  let key: RancherApiKey | undefined = start;
  // Each state allows one step, so three steps and a wait before each bound the loop.
  for (let turn = 0; key && turn < 8; turn++) {
    const step = retireStep(toKeyView(key), stopAtRemoved);
    if (step === 'done') return steps;
    if (step === 'wait') {
      if (key.transitioning !== 'yes') return undefined; // a state no step starts from: look again later
      const last = steps.at(-1);
      // The final step was accepted: it ends in milliseconds and nothing else follows it.
      if (last === DONE_WORD.PurgeKey || (stopAtRemoved && last === DONE_WORD.RemoveKey)) return steps;
      key = await client.waitForTransition(key, TRANSITION_WAIT);
      if (key?.transitioning === 'yes') return undefined;
      continue;
    }
    key = await send(client, key, step.type);
    steps.push(DONE_WORD[step.type] ?? step.type);
    if (step.type === 'RemoveKey') ctx.crash('after-remove-before-purge');
  }
  return key ? undefined : steps;
}

function send(client: RancherClient, key: RancherApiKey, type: Action['type']): Promise<RancherApiKey> {
  switch (type) {
    case 'DeactivateKey':
      return client.deactivateKey(key);
    case 'RemoveKey':
      return client.removeKey(key);
    case 'PurgeKey':
      return client.purgeKey(key);
    default:
      throw new Error(`cannot retire a key with ${type}`);
  }
}
