import { describe, expect, it } from 'vitest';
import { ApiKeySpecSchema, type ApiKeyStatus } from '../../api/apikey.ts';
import type { Observation, Plan, PlannedStatus } from './model.ts';
import { type NextPassInput, nextPass, type PassEnd, recordsDriftCheck } from './next-pass.ts';

const NOW = '2026-11-26T00:00:00Z';
const IN_1H = '2026-11-26T01:00:00Z';
const IN_2H = '2026-11-26T02:00:00Z';
const HOUR = 3_600_000;
const checked = {
  checked: true as const,
  byId: undefined,
  bySecret: undefined,
  marked: [],
  retiring: [],
  byStaging: undefined,
  verified: undefined,
};
const rancherError = {
  checked: true as const,
  error: { code: 'Timeout', reason: 'RancherUnavailable', message: 'slow', retryable: true },
};

function obs(over: Partial<Observation> = {}, spec: object = {}, status?: ApiKeyStatus): Observation {
  return {
    now: NOW,
    apiKey: {
      metadata: { name: 'ci', namespace: 'team-a', uid: 'u1', generation: 1 },
      spec: ApiKeySpecSchema.parse({ connectionRef: { name: 'rancher' }, ...spec }),
      status,
    },
    deleting: false,
    hasFinalizer: true,
    paused: false,
    desiredName: 'ci',
    desiredDescription: 'd',
    releasedDescription: 'r',
    secretName: 'ci',
    connection: { ok: true, url: 'http://r', canSupplyValues: true, accountId: '1a1' },
    secret: { state: 'owned', publicValue: 'P', intact: true, upToDate: true },
    staging: { state: 'absent' },
    rotateRequested: undefined,
    rancher: { checked: false },
    ...over,
  };
}

const rotating = { rotation: { every: '24h' } };
const reportsRotation = (at: string): PlannedStatus => ({ conditions: [], rotation: { nextRotationAt: at } });
const plan = (over: Partial<Plan> = {}): Plan => ({
  actions: [],
  status: undefined,
  events: [],
  requeueAfterMs: undefined,
  retry: false,
  ...over,
});
const noDrift = { scheduledMs: undefined, untilDueMs: 5 * HOUR };

type Case = [name: string, input: NextPassInput, expected: ReturnType<typeof nextPass>];
const cases: Case[] = [
  [
    'steady state waits for the pending drift check',
    { observation: obs(), plan: plan(), end: 'executed', drift: noDrift },
    { kind: 'done', requeueAfterMs: 5 * HOUR },
  ],
  [
    'steady state with a scheduled rotation wakes at the rotation status records, if sooner',
    {
      observation: obs({}, rotating, { rotation: { nextRotationAt: IN_1H } }),
      plan: plan(),
      end: 'executed',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: HOUR },
  ],
  [
    'a rotation left in status after spec.rotation was removed does not wake the key',
    {
      observation: obs({}, {}, { rotation: { nextRotationAt: IN_1H } }),
      plan: plan(),
      end: 'executed',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: 5 * HOUR },
  ],
  [
    'a rotation already due wakes the key at once',
    {
      observation: obs({}, rotating, { rotation: { nextRotationAt: '2026-11-25T00:00:00Z' } }),
      plan: plan(),
      end: 'executed',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: 0 },
  ],
  [
    'a paused key is not woken by the drift check or its rotation',
    {
      observation: obs({ paused: true }, rotating, { rotation: { nextRotationAt: IN_1H } }),
      plan: plan(),
      end: 'executed',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: undefined },
  ],
  [
    'a converged key checked against Rancher wakes at the sooner of the new drift check and its planned rotation',
    {
      observation: obs({ rancher: checked }, rotating),
      plan: plan({ status: reportsRotation(IN_1H) }),
      end: 'executed',
      drift: { scheduledMs: 2 * HOUR, untilDueMs: 0 },
    },
    { kind: 'done', requeueAfterMs: HOUR },
  ],
  [
    'a key still converging follows the plan, not its rotation',
    {
      observation: obs({ rancher: checked }, rotating),
      plan: plan({ status: reportsRotation(NOW), requeueAfterMs: 20 }),
      end: 'executed',
      drift: { scheduledMs: 2 * HOUR, untilDueMs: 0 },
    },
    { kind: 'done', requeueAfterMs: 20 },
  ],
  [
    'a key blocked by a foreign Secret is never woken by a past rotation (no hot loop)',
    {
      observation: obs({ rancher: checked, secret: { state: 'foreign', owner: 'x' } }, rotating),
      plan: plan({ status: reportsRotation('2026-11-25T00:00:00Z') }),
      end: 'executed',
      drift: { scheduledMs: 2 * HOUR, untilDueMs: 0 },
    },
    { kind: 'done', requeueAfterMs: 2 * HOUR },
  ],
  [
    'a deleting key is not woken by its rotation',
    {
      observation: obs({ rancher: checked, deleting: true }, rotating),
      plan: plan({ status: reportsRotation(NOW) }),
      end: 'executed',
      drift: { scheduledMs: 2 * HOUR, untilDueMs: 0 },
    },
    { kind: 'done', requeueAfterMs: 2 * HOUR },
  ],
  [
    'an unusable connection follows the plan alone (its 30 s retry)',
    {
      observation: obs({ connection: { ok: false, reason: 'X', message: 'x', terminal: false } }, rotating, {
        rotation: { nextRotationAt: NOW },
      }),
      plan: plan({ requeueAfterMs: 30_000 }),
      end: 'executed',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: 30_000 },
  ],
  [
    'a terminal failure waits for a change',
    {
      observation: obs({ connection: { ok: false, reason: 'X', message: 'x', terminal: true } }),
      plan: plan(),
      end: 'executed',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: undefined },
  ],
  [
    'plan mode looks again at the next drift check only',
    {
      observation: obs({ rancher: checked }, rotating),
      plan: plan({ requeueAfterMs: 20, status: reportsRotation(NOW) }),
      end: 'planMode',
      drift: { scheduledMs: 2 * HOUR, untilDueMs: 0 },
    },
    { kind: 'done', requeueAfterMs: 2 * HOUR },
  ],
  [
    'a created and reported key looks again at the drift check',
    {
      observation: obs({ rancher: checked }, rotating),
      plan: plan({ requeueAfterMs: 250, status: reportsRotation(IN_2H) }),
      end: 'createdAndReported',
      drift: { scheduledMs: HOUR, untilDueMs: 0 },
    },
    { kind: 'done', requeueAfterMs: HOUR },
  ],
  [
    'a created or staged key not yet reported is looked at again at once',
    {
      observation: obs({ rancher: checked }),
      plan: plan({ requeueAfterMs: 250 }),
      end: 'created',
      drift: noDrift,
    },
    { kind: 'done', requeueAfterMs: 0 },
  ],
  [
    'a removed finalizer ends the key: no requeue',
    {
      observation: obs({ rancher: checked, deleting: true }),
      plan: plan({ requeueAfterMs: 20 }),
      end: 'finalizerRemoved',
      drift: noDrift,
    },
    { kind: 'done' },
  ],
];

describe('nextPass', () => {
  it.each(cases)('%s', (_name, input, expected) => {
    expect(nextPass(input)).toEqual(expected);
  });

  it('a retryable failure is retried with backoff and carries the condition message', () => {
    const r = nextPass({
      observation: obs({ rancher: rancherError }),
      plan: plan({
        retry: true,
        status: { conditions: [{ type: 'Ready', status: 'False', reason: 'R', message: 'slow' }] },
      }),
      end: 'executed',
      drift: noDrift,
    });
    expect(r.kind).toBe('retry');
    expect(r.kind === 'retry' && r.error.message).toBe('slow');
  });
});

describe('recordsDriftCheck', () => {
  const ends: PassEnd[] = ['planMode', 'finalizerRemoved', 'createdAndReported', 'created', 'executed'];
  it.each([
    ['Rancher answered', obs({ rancher: checked }), ['planMode', 'createdAndReported', 'executed']],
    ['Rancher failed', obs({ rancher: rancherError }), []],
    ['Rancher not asked', obs(), []],
  ])('%s: the passes that count as a drift check', (_name, o, expected) => {
    expect(ends.filter((e) => recordsDriftCheck(o, e))).toEqual(expected);
  });
});
