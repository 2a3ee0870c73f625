import { formatTimestamp } from '../../../api/time.ts';
import type { AdoptedRecord, KeyView, Observation, Plan, PlannedStatus } from '../model.ts';
import { blocked, progressing } from '../plan/status.ts';
import { AFTER_ACTION_MS, WAIT_MS } from '../plan/steps.ts';
import { adoptionPending } from './view.ts';

/** ADOPT_REASONS are the Ready reasons of an adoption: in progress, or refused (Stalled, nothing changed). */
export const ADOPT_REASONS = {
  adopting: 'Adopting',
  secretNotFound: 'AdoptSecretNotFound',
  authenticationFailed: 'AdoptAuthenticationFailed',
  outOfScope: 'AdoptKeyOutOfScope',
  owned: 'AdoptKeyOwned',
} as const;

const UNCHANGED = 'Nothing was changed in Rancher.';

/**
 * planAdoption plans a live ApiKey that has no current key while its spec.adopt is pending: take the key over
 * (AdoptKey: ownership marker, then the output Secret), wait for Rancher, or refuse with a Stalled reason and no
 * Rancher write. A key already carrying this ApiKey's marker is an adoption a crash interrupted: it goes on.
 * It returns undefined when no adoption is pending (the caller creates a key as usual). Pure.
 */
export function planAdoption(o: Observation, base: PlannedStatus): Plan | undefined {
  const adopt = o.apiKey.spec.adopt;
  if (!adopt || !adoptionPending(o.apiKey)) return undefined;
  const a = o.adopt;
  const refuse = (reason: string, message: string) =>
    blocked(o, [], { reason, message: `${message}. ${UNCHANGED}`, terminal: true });
  if (a === undefined) {
    const message = `checking Rancher key with access key ${adopt.publicValue} before adopting it`;
    return waitFor(base, message);
  }
  if (a.state === 'secretMissing') return refuse(ADOPT_REASONS.secretNotFound, a.message);
  const { name, key: dataKey } = adopt.secretValueFrom;
  if (!a.verified) {
    return refuse(
      ADOPT_REASONS.authenticationFailed,
      `access key ${adopt.publicValue} with the secret value in Secret ${name} (data key ${dataKey}) does not ` +
        'authenticate against Rancher; only an active key with its own secret value can be adopted',
    );
  }
  const k = a.key;
  const scope = scopeOf(o);
  if (!k || scope === undefined || k.accountId !== scope.accountId) {
    return refuse(
      ADOPT_REASONS.outOfScope,
      `no live Rancher key with access key ${adopt.publicValue} belongs to ${scope?.text ?? 'the connection scope'}, ` +
        "the scope of this ApiKey's connection",
    );
  }
  if (k.ownerUid !== undefined && k.ownerUid !== o.apiKey.metadata.uid) {
    return refuse(
      ADOPT_REASONS.owned,
      `Rancher key ${k.id} carries another ApiKey's ownership marker; a key another ApiKey manages cannot be adopted`,
    );
  }
  const retiring = base.retiring?.filter((e) => e.id !== k.id);
  const status = { ...base, retiring: retiring?.length ? retiring : undefined };
  if (k.transitioning === 'yes')
    return waitFor(status, `waiting for Rancher key ${k.id} to finish ${k.state}`);
  const message =
    `adopting Rancher key ${k.id}: adding this ApiKey's ownership marker and writing its values to ` +
    `Secret ${o.secretName}`;
  return {
    actions: [{ type: 'AdoptKey', id: k.id }],
    status: { ...status, conditions: progressing(ADOPT_REASONS.adopting, message) },
    events: [],
    requeueAfterMs: AFTER_ACTION_MS,
    retry: false,
  };
}

function waitFor(status: PlannedStatus, message: string): Plan {
  return {
    actions: [],
    status: { ...status, conditions: progressing(ADOPT_REASONS.adopting, message) },
    events: [],
    requeueAfterMs: WAIT_MS,
    retry: false,
  };
}

/** scopeOf is the Rancher account a key of this ApiKey belongs to: its environment, or the connection's account. */
function scopeOf(o: Observation): { accountId: string; text: string } | undefined {
  const env = o.apiKey.spec.environment;
  if (env) return { accountId: env, text: `environment ${env}` };
  return o.connection?.ok
    ? { accountId: o.connection.accountId, text: `account ${o.connection.accountId}` }
    : undefined;
}

/**
 * adoptedRecord is the status.adopted a pass reports for its current key: recorded the first time the current key
 * is the one spec.adopt names (the Secret then holds its pair), kept afterwards.
 */
export function adoptedRecord(o: Observation, current: KeyView): AdoptedRecord | undefined {
  const previous = o.apiKey.status?.adopted;
  if (previous) return previous;
  const adopt = o.apiKey.spec.adopt;
  if (!adopt || current.publicValue !== adopt.publicValue) return undefined;
  return { id: current.id, publicValue: current.publicValue, at: formatTimestamp(Date.parse(o.now)) };
}
