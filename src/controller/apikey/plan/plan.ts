import type { ConditionInput } from '../../../api/conditions.ts';
import { adoptedRecord, planAdoption } from '../adopt/plan-adopt.ts';
import { planConsumers } from '../consumers/plan-consumers.ts';
import type {
  Action,
  KeyView,
  Observation,
  Plan,
  PlannedEvent,
  RancherView,
  RetiringEntry,
} from '../model.ts';
import { planDeletion } from './deletion.ts';
import { nextRotation, overlapEnd, rotationStep, waitingUntil } from './rotation.ts';
import { secretSpecProblem } from './secret-spec.ts';
import { blocked, keepFields, progressing, READY_REASONS, readyTrue } from './status.ts';
import { AFTER_ACTION_MS, converge, isLive, retireStep, uniqueById, WAIT_MS } from './steps.ts';

type Checked = Extract<RancherView, { byId: unknown }>;
type Step = Action | 'wait' | 'done';

/**
 * plan decides, from one observation and nothing else, the ordered writes of this pass, the status
 * to report and when to look again. It is pure: no I/O, no clock, no randomness.
 */
export function plan(o: Observation): Plan {
  if (o.paused) {
    return { actions: [], status: undefined, events: [], requeueAfterMs: undefined, retry: false };
  }
  return o.deleting ? planDeletion(o) : withFinalizer(o, planLive(o));
}

const RANCHER_WRITES = new Set<Action['type']>([
  'CreateKey',
  'StageKey',
  'ActivateKey',
  'DeactivateKey',
  'UpdateKey',
  'RemoveKey',
  'PurgeKey',
  'AdoptKey',
]);

/**
 * withFinalizer adds the finalizer right before the first Rancher write (or when status records a key
 * without it): an ApiKey that never reached Rancher has none, so deleting it never waits for Rancher.
 */
function withFinalizer(o: Observation, p: Plan): Plan {
  const s = o.apiKey.status;
  const hasKey = s?.id !== undefined || (s?.retiring?.length ?? 0) > 0;
  if (o.hasFinalizer || !(hasKey || p.actions.some((a) => RANCHER_WRITES.has(a.type)))) return p;
  return { ...p, actions: [{ type: 'AddFinalizer' }, ...p.actions] };
}

function planLive(o: Observation): Plan {
  const actions: Action[] = [];
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
  const refused = secretSpecProblem(o);
  if (refused) return blocked(o, actions, refused);
  const r = o.rancher;
  if (!r.checked) return { actions, status: undefined, events: [], requeueAfterMs: undefined, retry: false };
  if ('error' in r) {
    return blocked(o, actions, {
      reason: r.error.reason,
      message: r.error.message,
      terminal: !r.error.retryable,
      retry: r.error.retryable,
    });
  }
  return planWithRancher(o, r, actions, c.canSupplyValues);
}

/**
 * currentKey is the key the Secret's pair belongs to, if this ApiKey can prove it owns it: it is the key
 * status records, or it carries this ApiKey's marker and the pair authenticates. The Secret is
 * tenant-writable, so a publicValue alone is never proof.
 */
function currentKey(o: Observation, r: Checked): KeyView | undefined {
  const s = o.secret;
  const k = provenBySecret(o, r);
  if (!k || !isLive(k) || s.state !== 'owned' || !s.intact || s.publicValue !== k.publicValue)
    return undefined;
  return k;
}

/** provenBySecret returns the key the Secret names when it is status.id or carries this ApiKey's marker with a pair that authenticates. */
function provenBySecret(o: Observation, r: Checked): KeyView | undefined {
  const k = r.bySecret;
  if (!k) return undefined;
  if (k.id === o.apiKey.status?.id) return k;
  return k.ownerUid === o.apiKey.metadata.uid && r.verified === true ? k : undefined;
}

/** tamperEvents reports a Secret or staging Secret that names a Rancher key carrying no marker of this ApiKey. */
function tamperEvents(o: Observation, r: Checked): PlannedEvent[] {
  const uid = o.apiKey.metadata.uid;
  const foreign = (k: KeyView | undefined) =>
    k !== undefined && k.id !== o.apiKey.status?.id && k.ownerUid !== uid;
  const events: PlannedEvent[] = [];
  const note = 'does not belong to this ApiKey; the operator leaves that key untouched and uses a new key';
  if (foreign(r.bySecret))
    events.push({
      type: 'Warning',
      reason: 'SecretTampered',
      message: `Secret ${o.secretName} names Rancher key ${r.bySecret?.id}, which ${note}`,
    });
  if (foreign(r.byStaging))
    events.push({
      type: 'Warning',
      reason: 'SecretTampered',
      message: `the rotation staging Secret names Rancher key ${r.byStaging?.id}, which ${note}`,
    });
  return events;
}

/** retiringEntries lists every key of this ApiKey that is neither current nor staged, keeping recorded reasons. */
function retiringEntries(
  o: Observation,
  r: Checked,
  keep: (string | undefined)[],
): { keys: KeyView[]; entries: RetiringEntry[] } {
  const keys = uniqueById([r.byId, ...r.marked, ...r.retiring]).filter(
    (k) => !keep.includes(k.id) && k.state !== 'purged',
  );
  const entries = keys.map((k) => {
    const prev = o.apiKey.status?.retiring?.find((x) => x.id === k.id);
    const reason = prev?.reason ?? (k.id === r.byId?.id ? 'SecretLost' : 'Stray');
    return prev?.notBefore
      ? { id: k.id, publicValue: k.publicValue, reason, notBefore: prev.notBefore }
      : { id: k.id, publicValue: k.publicValue, reason };
  });
  return { keys, entries };
}

function planWithRancher(o: Observation, r: Checked, actions: Action[], canSupplyValues: boolean): Plan {
  const current = currentKey(o, r);
  const tampered = tamperEvents(o, r);
  const mine = r.byStaging?.ownerUid === o.apiKey.metadata.uid;
  const staged =
    r.byStaging && mine && isLive(r.byStaging) && r.byStaging.id !== current?.id ? r.byStaging : undefined;
  const { keys: others, entries } = retiringEntries(o, r, [current?.id, staged?.id]);
  const base = { ...keepFields(o), retiring: entries.length > 0 ? entries : undefined };
  if (!current) {
    const adoption = planAdoption(o, base);
    if (adoption) return adoption;
    actions.push({ type: 'CreateKey', supplyValues: canSupplyValues });
    const message =
      tampered.length > 0
        ? `Secret ${o.secretName} names a Rancher key that does not belong to this ApiKey; creating a new key`
        : `creating a Rancher key for this ApiKey; values will be written to Secret ${o.secretName}`;
    return {
      actions,
      status: {
        ...base,
        id: undefined,
        publicValue: undefined,
        rancherState: undefined,
        conditions: progressing(tampered.length > 0 ? 'SecretTampered' : 'Creating', message),
      },
      events: tampered,
      requeueAfterMs: WAIT_MS,
      retry: false,
    };
  }
  if (o.secret.state === 'owned' && !o.secret.upToDate) actions.push({ type: 'WriteSecret' });
  const desired = { state: o.apiKey.spec.state, name: o.desiredName, description: o.desiredDescription };
  const step = converge(current, desired);
  const rotate = step === 'done' ? rotationStep(o, current, staged, canSupplyValues) : 'done';
  const consumers = planConsumers(o, current);
  const retire =
    step === 'done' && rotate === 'done' ? firstRetireStep(o, others, entries, consumers.released) : 'done';
  const next = [step, rotate, retire].find((s) => s !== 'done') ?? 'done';
  if (typeof next === 'object') actions.push(next);

  const promoted = typeof next === 'object' && next.type === 'PromoteKey' && staged ? staged : undefined;
  const key = promoted ?? current;
  const retiring = promoted
    ? [
        ...entries,
        { id: current.id, publicValue: current.publicValue, reason: 'Rotated', notBefore: overlapEnd(o) },
      ]
    : entries;
  const { keyCreatedAt, rotation } = nextRotation(
    o,
    key,
    retiring,
    promoted ? { replaces: current } : undefined,
  );
  // Consumers restart after the pass's own step: a failing restart never holds up a retirement.
  if (consumers.action) actions.push(consumers.action);
  const verified = verifiedCondition(o, r);
  const conditions = [
    ...withRollout(conditionsFor(o, current, step, rotate, retire), consumers.waiting),
    ...(verified ? [verified] : []),
  ];
  const status = {
    ...base,
    retiring: retiring.length > 0 ? retiring : undefined,
    id: key.id,
    publicValue: key.publicValue,
    rancherState: key.state,
    accountId: key.accountId,
    keyCreatedAt,
    rotation,
    adopted: adoptedRecord(o, current),
    conditions,
  };
  // A converged key has nothing of its own to wait for (undefined): nextPass (next-pass.ts) wakes it for the
  // drift check or the scheduled rotation this status reports.
  const wait = next === 'wait' ? (waitingUntil(o, retiring) ?? WAIT_MS) : undefined;
  // While Rancher finishes a transition of the current key (milliseconds) nothing is reported: the next
  // pass reports the settled state, so a create or a state change costs one status write, not two.
  const settling = step === 'wait' && actions.length === 0;
  return {
    actions,
    status: settling ? undefined : status,
    events: [...tampered, ...verifiedEvents(o, verified), ...consumers.events],
    requeueAfterMs: typeof next === 'object' ? AFTER_ACTION_MS : earliest(wait, consumers.pollMs),
    retry: false,
  };
}

const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** withRollout reports a wait for consumers to roll out in place of the generic RetiringOldKeys. */
function withRollout(conditions: ConditionInput[], waiting: ConditionInput | undefined): ConditionInput[] {
  if (!waiting) return conditions;
  return conditions.map((c) => (c.type === 'Reconciling' && c.reason === 'RetiringOldKeys' ? waiting : c));
}

/** firstRetireStep returns the next retirement step; a key in `released` need not wait for its overlap to end. */
function firstRetireStep(
  o: Observation,
  keys: KeyView[],
  entries: RetiringEntry[],
  released: string[],
): Step {
  let waiting = false;
  const now = Date.parse(o.now);
  for (const k of keys) {
    const notBefore = entries.find((e) => e.id === k.id)?.notBefore;
    if (notBefore && Date.parse(notBefore) > now && !released.includes(k.id)) {
      waiting = true;
      continue;
    }
    const s = retireStep(k, false);
    if (typeof s === 'object') return s;
    if (s === 'wait') waiting = true;
  }
  return waiting ? 'wait' : 'done';
}

function conditionsFor(
  o: Observation,
  key: KeyView,
  step: Step,
  rotate: Step,
  retire: Step,
): ConditionInput[] {
  const desired = o.apiKey.spec.state === 'Active' ? 'active' : 'inactive';
  if (step !== 'done') {
    const what = typeof step === 'object' ? step.type : `waiting for Rancher to finish ${key.state}`;
    return progressing('Progressing', `Rancher key ${key.id} is ${key.state}; next: ${what}`);
  }
  const message = `Rancher key ${key.id} is ${desired}; its values are in Secret ${o.secretName}`;
  const ready = readyTrue(READY_REASONS[desired], message);
  if (rotate !== 'done') {
    return [
      ...ready,
      {
        type: 'Reconciling',
        status: 'True',
        reason: 'RotatingKey',
        message: 'rotating to a new Rancher key',
      },
    ];
  }
  if (retire === 'done') return ready;
  return [
    ...ready,
    {
      type: 'Reconciling',
      status: 'True',
      reason: 'RetiringOldKeys',
      message: 'retiring replaced Rancher keys',
    },
  ];
}

function verifiedCondition(o: Observation, r: Checked): ConditionInput | undefined {
  // An Inactive key's pair is only checked as proof of ownership; it is not expected to authenticate.
  const active = o.apiKey.spec.state === 'Active';
  if (active && r.verified === true) {
    return {
      type: 'Verified',
      status: 'True',
      reason: 'Authenticated',
      message: 'the Secret’s pair authenticates against Rancher',
    };
  }
  if (active && r.verified === false) {
    return {
      type: 'Verified',
      status: 'False',
      reason: 'AuthenticationFailed',
      message: 'Rancher rejected the Secret’s pair; the operator is repairing the key',
    };
  }
  const prev = o.apiKey.status?.conditions?.find((c) => c.type === 'Verified');
  return prev
    ? { type: prev.type, status: prev.status, reason: prev.reason, message: prev.message }
    : undefined;
}

function verifiedEvents(o: Observation, verified: ConditionInput | undefined): PlannedEvent[] {
  const prev = o.apiKey.status?.conditions?.find((c) => c.type === 'Verified');
  if (verified?.status !== 'False' || prev?.status === 'False') return [];
  return [{ type: 'Warning', reason: 'VerificationFailed', message: verified.message }];
}
