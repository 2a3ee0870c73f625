import type { ConditionInput } from '../../../api/conditions.ts';
import type { KeyView, Observation, PlannedEvent } from '../model.ts';
import { describeWorkloads, type RestartConsumersAction } from './model.ts';

/** ROLLOUT_POLL_MS is how often a pass looks at consumers that are still rolling out (their status is not watched). */
export const ROLLOUT_POLL_MS = 15_000;

/** ConsumerPlan is the consumer part of a pass: restarts to trigger, old keys released early, what to report. */
export interface ConsumerPlan {
  action: RestartConsumersAction | undefined;
  /** Ids of rotated-away keys that may retire before their overlap ends: every consumer has rolled out. */
  released: string[];
  /** The Reconciling condition while consumers roll out. */
  waiting: ConditionInput | undefined;
  events: PlannedEvent[];
  /** Look again within this many milliseconds. */
  pollMs: number | undefined;
}

const NONE: ConsumerPlan = {
  action: undefined,
  released: [],
  waiting: undefined,
  events: [],
  pollMs: undefined,
};

/**
 * planConsumers decides the consumer restarts of a rotation (pure): once the Secret holds the new key that status
 * records, every consumer whose pod template does not yet name that key is restarted; when all of them (at least
 * one) have rolled out, the rotated-away keys are released before their overlap ends. Otherwise the overlap decides.
 */
export function planConsumers(o: Observation, current: KeyView): ConsumerPlan {
  const c = o.consumers;
  if (!c || c.state === 'notPending' || current.id !== o.apiKey.status?.id) return NONE;
  const now = Date.parse(o.now);
  const pending = (o.apiKey.status?.retiring ?? []).filter(
    (r) => r.reason === 'Rotated' && r.notBefore !== undefined && Date.parse(r.notBefore) > now,
  );
  if (pending.length === 0) return NONE;
  const until = pending.map((r) => r.notBefore).sort()[0];
  const keys = pending.map((r) => r.id).join(', ');
  if (c.state === 'disabled') {
    const message =
      'spec.rotation.restartConsumers is set, but this operator runs without consumer restarts ' +
      `(CONSUMER_RESTARTS=false): nothing is restarted, and key ${keys} stays active until ${until}`;
    return { ...NONE, events: [{ type: 'Warning', reason: 'ConsumerRestartsDisabled', message }] };
  }
  if (c.state === 'error') {
    const message = `cannot read the consumers to restart: ${c.message}; key ${keys} stays active until ${until}`;
    return {
      ...NONE,
      events: [{ type: 'Warning', reason: 'CannotReadConsumers', message }],
      pollMs: ROLLOUT_POLL_MS,
    };
  }
  if (c.workloads.length === 0) {
    const message = `no Deployment, StatefulSet or DaemonSet to restart references Secret ${o.secretName}; key ${keys} stays active until ${until}`;
    return { ...NONE, events: [{ type: 'Normal', reason: 'NoConsumersFound', message }] };
  }
  const stale = c.workloads.filter((w) => w.restartedFor !== current.publicValue);
  const action: RestartConsumersAction | undefined =
    stale.length > 0
      ? {
          type: 'RestartConsumers',
          workloads: stale.map((w) => ({ kind: w.kind, name: w.name })),
          publicValue: current.publicValue,
          id: current.id,
        }
      : undefined;
  const rolling = c.workloads.filter((w) => w.restartedFor !== current.publicValue || !w.rolledOut);
  if (rolling.length === 0) return { ...NONE, released: pending.map((r) => r.id) };
  const message =
    `waiting for ${describeWorkloads(rolling)} to roll out onto Rancher key ${current.id}; ` +
    `key ${keys} stays active until they have, at the latest until ${until}`;
  return {
    action,
    released: [],
    waiting: { type: 'Reconciling', status: 'True', reason: 'WaitingForRollout', message },
    events: [],
    pollMs: ROLLOUT_POLL_MS,
  };
}
