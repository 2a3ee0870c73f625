import { FINALIZER } from '../../../api/names.ts';
import { KubeError } from '../../../kube/errors.ts';
import type { RancherApiKey } from '../../../rancher/index.ts';
import { adoptKey } from '../adopt/adopt-key.ts';
import { restartConsumers } from '../consumers/restart-consumers.ts';
import type { Action, Plan } from '../model.ts';
import type { Observed } from '../observe.ts';
import { readPair } from '../secret-data.ts';
import { type ExecContext, type ExecuteDeps, makeContext, UnreadSecretTaken } from './context.ts';
import { createKey } from './create-key.ts';
import { retireKeys } from './retire-keys.ts';
import { promoteKey, stageKey } from './rotate-key.ts';
import { writeStatus } from './status-writer.ts';

/** ExecuteOutcome says what the pass changed, for metrics and the next requeue. */
export interface ExecuteOutcome {
  created: boolean;
  /** The key CreateKey made (after its transition), so the caller can report it in the same pass. */
  createdKey?: RancherApiKey;
  /** true when createdKey was read with its own pair from the Secret (see createKey): it authenticates. */
  createdVerified?: true;
  /** The output Secret as this pass left it. */
  secretAfter?: import('@kubernetes/client-node').V1Secret;
  finalizerRemoved: boolean;
  /** A key was still transitioning: the pass stopped before its remaining actions. */
  unfinished?: boolean;
}

/** ActionError wraps a failed action with the Event reason it was reported under. */
export class ActionError extends Error {
  readonly reason: string;
  constructor(action: Action['type'], cause: unknown) {
    const reason = `Cannot${action}`;
    super(`${action} failed: ${cause instanceof Error ? cause.message : 'unknown error'}`, { cause });
    this.name = 'ActionError';
    this.reason = reason;
  }
}

/**
 * execute performs the plan's actions in order (the only code that writes), then writes the
 * status when it changed. A failed action stops the pass, is reported as a Warning Event and in
 * the Ready condition, and is rethrown for the work queue's backoff.
 */
export async function execute(
  observed: Observed,
  p: Plan,
  deps: ExecuteDeps,
  lastWritten: Map<string, string>,
): Promise<ExecuteOutcome> {
  const ctx = makeContext(observed, deps);
  const outcome: ExecuteOutcome = { created: false, finalizerRemoved: false };
  for (const e of p.events) await ctx.event(e.type, e.reason, e.message, 'Reconcile');
  const late = finalizerAfterSecret(observed, p);
  for (const action of p.actions) {
    try {
      if (late && action.type === 'AddFinalizer') continue;
      if (action.type === 'PromoteKey' && p.status) {
        await promoteKey(ctx, deps, lastWritten, p.status, action);
        continue;
      }
      if (action.type === 'AdoptKey') {
        await adoptKey(ctx, observed.adoptPair, action.id);
        continue;
      }
      const addFinalizer = late ? () => run(ctx, { type: 'AddFinalizer' }, deps, outcome) : undefined;
      await run(ctx, action, deps, outcome, addFinalizer);
      if (outcome.unfinished) break;
    } catch (err) {
      // Not a failure: the next pass reads the Secret and reports it (one Event, SecretConflict, not two).
      if (err instanceof UnreadSecretTaken) throw err;
      const failure = new ActionError(action.type, err);
      await ctx.event('Warning', failure.reason, failure.message, action.type);
      await writeStatus(ctx, deps, lastWritten, {
        ...(p.status ?? { conditions: [] }),
        conditions: [
          { type: 'Ready', status: 'False', reason: failure.reason, message: failure.message },
          { type: 'Reconciling', status: 'True', reason: failure.reason, message: failure.message },
        ],
      }).catch(() => undefined);
      throw failure;
    }
  }
  outcome.secretAfter = ctx.liveSecret();
  if (p.status && !outcome.created && !outcome.finalizerRemoved) {
    await writeStatus(ctx, deps, lastWritten, p.status);
  }
  return outcome;
}

/**
 * finalizerAfterSecret: a brand-new ApiKey whose Secret was not read live (Observed.secretUnread) creates its
 * Secret before the finalizer, still before anything reaches Rancher. When someone else holds the Secret's
 * name the create fails first, and the ApiKey is left without a finalizer for a key it never made.
 */
function finalizerAfterSecret(observed: Observed, p: Plan): boolean {
  const [first, second] = p.actions;
  return (
    observed.secretUnread === true &&
    first?.type === 'AddFinalizer' &&
    second?.type === 'CreateKey' &&
    second.supplyValues
  );
}

/** run performs one action; `afterPersist` is CreateKey's (see finalizerAfterSecret). */
async function run(
  ctx: ExecContext,
  action: Action,
  deps: ExecuteDeps,
  outcome: ExecuteOutcome,
  afterPersist?: () => Promise<void>,
): Promise<void> {
  const meta = ctx.apiKey.metadata;
  const ns = meta.namespace;
  switch (action.type) {
    case 'AddFinalizer':
      await deps.resources.setFinalizers(
        'apikeys',
        ns,
        meta.name,
        [...(meta.finalizers ?? []), FINALIZER],
        meta.resourceVersion ?? '',
      );
      return;
    case 'RemoveFinalizer':
      ctx.crash('after-purge-before-finalizer');
      try {
        await deps.resources.setFinalizers(
          'apikeys',
          ns,
          meta.name,
          (meta.finalizers ?? []).filter((f) => f !== FINALIZER),
          meta.resourceVersion ?? '',
        );
      } catch (err) {
        // Gone already: an earlier pass removed the finalizer and this one ran on a cache that lagged behind.
        if (!(err instanceof KubeError && err.code === 'NotFound')) throw err;
      }
      outcome.finalizerRemoved = true;
      return;
    case 'CreateKey': {
      const made = await createKey(ctx, action.supplyValues, afterPersist);
      outcome.createdKey = made.key;
      if (made.verified) outcome.createdVerified = true;
      outcome.created = true;
      return;
    }
    case 'StageKey':
      await stageKey(ctx, action.supplyValues);
      outcome.created = true;
      return;
    case 'WriteSecret': {
      const live = ctx.liveSecret();
      const pair = live ? readPair(live) : undefined;
      if (!pair) throw new Error('cannot rewrite the Secret: its pair is no longer readable');
      await ctx.writeSecret(pair);
      await ctx.event(
        'Normal',
        'RestoredSecret',
        `rewrote Secret ${ctx.observation.secretName} to match the spec`,
        'WriteSecret',
      );
      return;
    }
    case 'RestartConsumers':
      await restartConsumers(ctx, deps.workloads, action);
      return;
    case 'RetireKeys':
      if (!(await retireKeys(ctx, action))) outcome.unfinished = true;
      return;
    case 'DeleteSecret': {
      const uid = (ctx.liveSecret() ?? ctx.cachedSecret)?.metadata?.uid;
      if (uid && ns) await deps.secrets.delete(ns, ctx.observation.secretName, uid);
      await ctx.deleteStaging();
      return;
    }
    default:
      await runRancher(ctx, action);
  }
}

const PAST: Record<string, string> = {
  ActivateKey: 'ActivatedKey',
  DeactivateKey: 'DeactivatedKey',
  UpdateKey: 'UpdatedKey',
  RemoveKey: 'RemovedKey',
  PurgeKey: 'PurgedKey',
};

async function runRancher(ctx: ExecContext, action: Action): Promise<void> {
  if (!('id' in action)) return;
  const { client } = ctx.rancher();
  const key = ctx.key(action.id);
  let after = key;
  switch (action.type) {
    case 'ActivateKey':
      after = await client.activateKey(key);
      break;
    case 'DeactivateKey':
      after = await client.deactivateKey(key);
      break;
    case 'UpdateKey':
      after = await client.updateKey(key, { name: action.name, description: action.description });
      break;
    case 'RemoveKey':
      after = await client.removeKey(key);
      ctx.crash('after-remove-before-purge');
      break;
    case 'PurgeKey':
      after = await client.purgeKey(key);
      break;
  }
  await ctx.event(
    'Normal',
    PAST[action.type] ?? action.type,
    `Rancher key ${key.id}: ${action.type} (now ${after.state})`,
    action.type,
  );
  await client.waitForTransition(after, { timeoutMs: 2_000, intervalMs: 50 }).catch(() => undefined);
}
