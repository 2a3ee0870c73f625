import { describe, expect, it } from 'vitest';
import { ApiKeySpecSchema } from '../../../api/apikey.ts';
import type { Observation } from '../model.ts';
import { keyView, observation } from './observation.test-support.ts';
import { plan } from './plan.ts';

function obs(secret: object, over: Partial<Observation> = {}): Observation {
  const stale = {
    state: 'owned',
    publicValue: keyView().publicValue,
    intact: true,
    upToDate: false,
  } as const;
  return observation({ secret }, { id: '1c10' }, keyView(), { secret: stale, ...over });
}

describe('plan: the Secret spec', () => {
  it('a bad template is Stalled InvalidSecretTemplate with a Warning, and nothing is written', () => {
    const p = plan(obs({ template: { env: 'X={{ .apiKey.metadata }}' } }));
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Stalled', status: 'True', reason: 'InvalidSecretTemplate' }),
    );
    expect(p.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'InvalidSecretTemplate',
        message: expect.stringMatching(/entry env: unknown field/),
      }),
    ]);
  });

  it('a bad template before the first key: no key is created', () => {
    const o = obs({ template: { env: '{{ .url | exec }}' } }, { secret: { state: 'absent' } });
    expect(plan(o).actions).toEqual([]);
  });

  it('a good template that the Secret does not match yet is one WriteSecret', () => {
    expect(plan(obs({ template: { env: 'X={{ .url }}' } })).actions).toEqual([{ type: 'WriteSecret' }]);
  });

  it('a built-in type without the data keys the apiserver requires is Stalled InvalidSecretType before any write', () => {
    const p = plan(obs({ type: 'kubernetes.io/basic-auth' }, { secret: { state: 'absent' } }));
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Ready',
        reason: 'InvalidSecretType',
        message: expect.stringMatching(/needs the data key username or password/),
      }),
    );
    const ok = obs({ type: 'kubernetes.io/basic-auth', template: { username: '{{ .publicValue }}' } });
    expect(plan(ok).actions).toEqual([{ type: 'WriteSecret' }]);
    const renamed = obs({ type: 'kubernetes.io/basic-auth', keys: { publicValue: 'username' } });
    expect(plan(renamed).actions).toEqual([{ type: 'WriteSecret' }]);
    expect(plan(obs({ type: 'example.com/rancher-key' })).actions).toEqual([{ type: 'WriteSecret' }]);
  });

  it('deletion with retention Retain leaves the Secret; Delete deletes it', () => {
    const deleting = { deletionPolicy: 'Orphan' };
    const o = (secret: object) => {
      const x = obs(secret, { deleting: true });
      x.apiKey.spec = ApiKeySpecSchema.parse({ connectionRef: { name: 'rancher' }, secret, ...deleting });
      x.releasedDescription = 'desc [marker]';
      return x;
    };
    expect(plan(o({ retention: 'Retain' })).actions.map((a) => a.type)).toEqual(['RemoveFinalizer']);
    expect(plan(o({})).actions.map((a) => a.type)).toEqual(['DeleteSecret', 'RemoveFinalizer']);
  });
});
