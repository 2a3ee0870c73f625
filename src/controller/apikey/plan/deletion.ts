import type { Action, KeyView, Observation, Plan } from '../model.ts';
import { retains } from '../secret-metadata.ts';
import { blocked, keepFields, progressing } from './status.ts';
import { AFTER_ACTION_MS, isLive, retireStep, uniqueById, WAIT_MS } from './steps.ts';

/**
 * ownedBySecret is the key the (tenant-writable) Secret names, only when it is provably this ApiKey's:
 * status.id or the operator-written marker with this ApiKey's uid. Any other key is never touched.
 */
function ownedBySecret(o: Observation): KeyView | undefined {
  const r = o.rancher;
  if (!r.checked || 'error' in r) return undefined;
  const k = r.bySecret;
  return k && (k.id === o.apiKey.status?.id || k.ownerUid === o.apiKey.metadata.uid) ? k : undefined;
}

/**
 * noKeyPossible reports that no Rancher key can exist for this ApiKey: status records none, nothing is
 * retiring or staged, and the Secret holds no pair (with supplied values the pair is persisted before the
 * create). Such an ApiKey is deleted without waiting for its connection.
 */
function noKeyPossible(o: Observation): boolean {
  const s = o.apiKey.status;
  return (
    s?.id === undefined &&
    (s?.retiring?.length ?? 0) === 0 &&
    o.staging.state === 'absent' &&
    !(o.secret.state === 'owned' && o.secret.publicValue !== undefined)
  );
}

/** releaseStep removes the ownership marker from an orphaned key, so the orphan inventory leaves it alone. */
function releaseStep(o: Observation): Action | undefined {
  const r = o.rancher;
  if (!r.checked || 'error' in r) return undefined;
  const k = ownedBySecret(o) ?? r.byId;
  if (!k || !isLive(k) || k.transitioning === 'yes' || k.description === o.releasedDescription)
    return undefined;
  return { type: 'UpdateKey', id: k.id, name: k.name ?? o.desiredName, description: o.releasedDescription };
}

/**
 * planDeletion retires every Rancher key of a deleted ApiKey per its deletionPolicy (Purge:
 * deactivate, remove, purge; Remove: stop at removed; Orphan: leave them), then deletes the
 * Secret and drops the finalizer. Keys already gone in Rancher count as retired.
 */
export function planDeletion(o: Observation): Plan {
  if (!o.hasFinalizer)
    return { actions: [], status: undefined, events: [], requeueAfterMs: undefined, retry: false };
  const policy = o.apiKey.spec.deletionPolicy;
  const finish: Action[] = [
    // spec.secret.retention Retain: the Secret (without an owner reference) outlives the ApiKey.
    ...(o.secret.state === 'owned' && !retains(o.apiKey) ? [{ type: 'DeleteSecret' } as const] : []),
    { type: 'RemoveFinalizer' },
  ];
  if (policy === 'Orphan') {
    const release = releaseStep(o);
    if (release) {
      return {
        actions: [release],
        status: undefined,
        events: [],
        requeueAfterMs: AFTER_ACTION_MS,
        retry: false,
      };
    }
    const id = o.apiKey.status?.id;
    const message = id
      ? `Rancher key ${id} left in Rancher (deletionPolicy Orphan)`
      : 'deleted (deletionPolicy Orphan)';
    return {
      actions: finish,
      status: undefined,
      events: [{ type: 'Normal', reason: 'OrphanedKey', message }],
      requeueAfterMs: undefined,
      retry: false,
    };
  }
  const c = o.connection;
  const r0 = o.rancher;
  const refused = r0.checked && 'error' in r0 && !r0.error.retryable ? r0.error.message : undefined;
  if ((!c?.ok || refused !== undefined) && noKeyPossible(o)) {
    const why = c && !c.ok ? `${c.reason}: ${c.message}` : (refused ?? 'connection not resolved');
    return {
      actions: finish,
      status: undefined,
      events: [
        {
          type: 'Normal',
          reason: 'DeletedWithoutRancher',
          message: `no Rancher key was created for this ApiKey, so none was touched (Rancher unusable: ${why})`,
        },
      ],
      requeueAfterMs: undefined,
      retry: false,
    };
  }
  if (!c?.ok) {
    const why = c ?? { reason: 'ConnectionPending', message: 'connection not resolved yet', terminal: false };
    return blocked(o, [], {
      reason: 'DeletionBlocked',
      message: `cannot retire the Rancher key: ${why.reason}: ${why.message}`,
      terminal: false,
      retry: true,
    });
  }
  const r = o.rancher;
  if (!r.checked || 'error' in r) {
    const message = r.checked && 'error' in r ? r.error.message : 'Rancher not consulted';
    return blocked(o, [], {
      reason: 'DeletionBlocked',
      message: `cannot retire the Rancher key: ${message}`,
      terminal: false,
      retry: true,
    });
  }
  const keys = uniqueById([r.byId, ownedBySecret(o), ...r.marked, ...r.retiring]);
  const stopAtRemoved = policy === 'Remove';
  const pending = keys.filter((k) => retireStep(k, stopAtRemoved) !== 'done').map((k) => k.id);
  if (pending.length === 0) {
    return { actions: finish, status: undefined, events: [], requeueAfterMs: undefined, retry: false };
  }
  // All steps of every key in this one pass, then the Secret and the finalizer: a deletion that has started
  // finishes without going back to the queue, and the status below is written only if it cannot finish.
  return {
    actions: [{ type: 'RetireKeys', ids: pending, stopAtRemoved }, ...finish],
    status: {
      ...keepFields(o),
      conditions: progressing('Deleting', `retiring the Rancher key (deletionPolicy ${policy})`),
    },
    events: [],
    requeueAfterMs: WAIT_MS,
    retry: false,
  };
}
