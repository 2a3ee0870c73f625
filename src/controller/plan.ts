import type { Action, KeyView, Observation, Plan, RancherView } from './model.ts';
import { planDeletion } from './plan-deletion.ts';
import { blocked, keepFields, progressing, READY_REASONS, readyTrue } from './plan-status.ts';
import { converge, isLive, retireStep, uniqueById, WAIT_MS } from './plan-steps.ts';

type Checked = Extract<RancherView, { byId: unknown }>;

/**
 * plan decides, from one observation and nothing else, the ordered writes of this pass, the status
 * to report and when to look again. It is pure: no I/O, no clock, no randomness.
 */
export function plan(o: Observation): Plan {
  if (o.paused) {
    return { actions: [], status: undefined, events: [], requeueAfterMs: undefined, retry: false };
  }
  return o.deleting ? planDeletion(o) : planLive(o);
}

function planLive(o: Observation): Plan {
  const actions: Action[] = o.hasFinalizer ? [] : [{ type: 'AddFinalizer' }];
  const c = o.connection;
  if (!c?.ok) {
    const why = c ?? { reason: 'ConnectionPending', message: 'connection not resolved yet', terminal: false };
    return blocked(o, actions, why);
  }
  if (o.secret.state === 'foreign') {
    const message =
      `Secret ${o.secretName} already exists and is owned by ${o.secret.owner}; ` +
      'the operator never overwrites a Secret it does not own. Delete it or set spec.secret.name.';
    return blocked(o, actions, { reason: 'SecretConflict', message, terminal: true });
  }
  const r = o.rancher;
  if (!r.checked) return steady(actions);
  if ('error' in r) {
    return blocked(o, actions, {
      reason: r.error.code === 'Unauthorized' ? 'RancherUnauthorized' : 'RancherUnavailable',
      message: r.error.message,
      terminal: !r.error.retryable,
      retry: r.error.retryable,
    });
  }
  return planWithRancher(o, r, actions, c.canSupplyValues);
}

/** steady keeps everything as it is: the cache says the key is converged and no check is due. */
function steady(actions: Action[]): Plan {
  return { actions, status: undefined, events: [], requeueAfterMs: undefined, retry: false };
}

function currentKey(o: Observation, r: Checked): KeyView | undefined {
  const s = o.secret;
  const k = r.bySecret;
  if (!k || !isLive(k) || s.state !== 'owned' || !s.intact || s.publicValue !== k.publicValue)
    return undefined;
  return k;
}

function planWithRancher(o: Observation, r: Checked, actions: Action[], canSupplyValues: boolean): Plan {
  const current = currentKey(o, r);
  const others = uniqueById([r.byId, ...r.marked, ...r.retiring]).filter(
    (k) => k.id !== current?.id && k.state !== 'purged',
  );
  const reasonOf = (k: KeyView): string =>
    o.apiKey.status?.retiring?.find((x) => x.id === k.id)?.reason ??
    (k.id === r.byId?.id ? 'SecretLost' : 'Stray');
  const retiring = others.map((k) => ({ id: k.id, publicValue: k.publicValue, reason: reasonOf(k) }));
  const base = { ...keepFields(o), retiring: retiring.length > 0 ? retiring : undefined };

  if (!current) {
    actions.push({ type: 'CreateKey', supplyValues: canSupplyValues });
    const message = `creating a Rancher key for this ApiKey; values will be written to Secret ${o.secretName}`;
    return {
      actions,
      status: {
        ...base,
        id: undefined,
        publicValue: undefined,
        rancherState: undefined,
        conditions: progressing('Creating', message),
      },
      events: [],
      requeueAfterMs: WAIT_MS,
      retry: false,
    };
  }
  if (o.secret.state === 'owned' && !o.secret.upToDate) actions.push({ type: 'WriteSecret' });

  const desiredState = o.apiKey.spec.state;
  const step = converge(current, {
    state: desiredState,
    name: o.desiredName,
    description: o.desiredDescription,
  });
  const retire = step === 'done' ? firstRetireStep(others) : 'done';
  const next = step !== 'done' ? step : retire;
  if (typeof next === 'object') actions.push(next);

  const status = {
    ...base,
    id: current.id,
    publicValue: current.publicValue,
    rancherState: current.state,
    accountId: current.accountId,
    conditions: conditionsFor(o, current, step, retire),
  };
  return { actions, status, events: [], requeueAfterMs: next === 'done' ? undefined : WAIT_MS, retry: false };
}

function firstRetireStep(keys: KeyView[]): Action | 'wait' | 'done' {
  let waiting = false;
  for (const k of keys) {
    const s = retireStep(k, false);
    if (typeof s === 'object') return s;
    if (s === 'wait') waiting = true;
  }
  return waiting ? 'wait' : 'done';
}

function conditionsFor(
  o: Observation,
  key: KeyView,
  step: Action | 'wait' | 'done',
  retire: Action | 'wait' | 'done',
) {
  const desired = o.apiKey.spec.state === 'Active' ? 'active' : 'inactive';
  if (step !== 'done') {
    const what = typeof step === 'object' ? step.type : `waiting for Rancher to finish ${key.state}`;
    return progressing('Progressing', `Rancher key ${key.id} is ${key.state}; next: ${what}`);
  }
  const message = `Rancher key ${key.id} is ${desired}; its values are in Secret ${o.secretName}`;
  const ready = readyTrue(READY_REASONS[desired], message);
  if (retire === 'done') return ready;
  return [
    ...ready,
    {
      type: 'Reconciling',
      status: 'True' as const,
      reason: 'RetiringOldKeys',
      message: 'retiring replaced Rancher keys',
    },
  ];
}
