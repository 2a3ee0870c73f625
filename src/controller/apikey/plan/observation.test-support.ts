import { ApiKeySpecSchema, type ApiKeyStatus } from '../../../api/apikey.ts';
import type { KeyView, Observation } from '../model.ts';

/** keyView is a healthy, active Rancher key of the ApiKey with uid u1 (override any field). */
export function keyView(over: Partial<KeyView> = {}): KeyView {
  return {
    id: '1c10',
    publicValue: 'AAAAAAAAAAAAAAAAAAAA',
    state: 'active',
    transitioning: 'no',
    name: 'ci',
    description: 'desc [marker]',
    accountId: '1a2',
    ownerUid: 'u1',
    ...over,
  };
}

/**
 * observation is a settled ApiKey ci/team-a (uid u1) whose Secret holds `current`'s verified pair, with the given
 * spec and status; `over` replaces whole observation fields.
 */
export function observation(
  spec: object,
  status: ApiKeyStatus | undefined,
  current: KeyView = keyView(),
  over: Partial<Observation> = {},
): Observation {
  return {
    now: '2026-11-26T00:00:00Z',
    apiKey: {
      metadata: {
        name: 'ci',
        namespace: 'team-a',
        uid: 'u1',
        generation: 1,
        finalizers: ['rancher.keyops.dev/finalizer'],
      },
      spec: ApiKeySpecSchema.parse({ connectionRef: { name: 'rancher' }, ...spec }),
      status,
    },
    deleting: false,
    hasFinalizer: true,
    paused: false,
    desiredName: 'ci',
    desiredDescription: 'desc [marker]',
    releasedDescription: 'desc [released]',
    secretName: 'ci',
    connection: { ok: true, url: 'http://r', canSupplyValues: true, accountId: '1a1' },
    secret: { state: 'owned', publicValue: current.publicValue, intact: true, upToDate: true },
    staging: { state: 'absent' },
    rotateRequested: undefined,
    rancher: {
      checked: true,
      byId: current,
      bySecret: current,
      marked: [current],
      retiring: [],
      byStaging: undefined,
      verified: true,
    },
    ...over,
  };
}
