import { describe, expect, it } from 'vitest';
import { UID } from '../../fakes.test-support.ts';
import { markerToken, uidFromDescription } from '../../marker.ts';
import { passWorld } from '../passes.test-support.ts';
import { readPair } from '../secret-data.ts';

const PV = 'A1B2C3D4E5F6A7B8C9D0';
const SECRET = 'the-existing-secret-value';
const adopt = { publicValue: PV, secretValueFrom: { name: 'legacy' } };
const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');

/** world seeds an ApiKey with spec.adopt and a tenant Secret holding `secretValue`. */
function world(opts: { secretValue?: string | null; spec?: Record<string, unknown>; fresh?: boolean } = {}) {
  const metadata = opts.fresh === false ? {} : { finalizers: [] };
  const t = passWorld({ metadata, spec: { adopt, ...opts.spec } });
  if (opts.secretValue !== null)
    t.secrets.put({
      metadata: { name: 'legacy', namespace: 'team-a' },
      data: { secretValue: b64(opts.secretValue ?? SECRET) },
    });
  return t;
}

describe('adopting an existing key (spec.adopt)', () => {
  it('takes over a key whose pair authenticates: marker, name, Secret with its pair, Ready, status.adopted', async () => {
    const t = world();
    const seeded = t.rancher.seed({
      publicValue: PV,
      secretValue: SECRET,
      description: 'made by hand',
      name: 'old',
    });
    for (let i = 0; i < 3; i++) await t.pass();
    const key = t.rancher.peek(seeded.id);
    expect(uidFromDescription(key?.description ?? null)).toBe(UID);
    expect(key?.name).toBe('ci');
    expect(key?.state).toBe('active');
    const out = t.secrets.get('team-a', 'ci');
    expect(out && readPair(out)).toEqual({ publicValue: PV, secretValue: SECRET });
    expect(t.condition('Ready')).toMatchObject({ status: 'True', reason: 'KeyActive' });
    expect(t.condition('Verified')?.status).toBe('True');
    expect(t.obj().status).toMatchObject({ id: seeded.id, publicValue: PV, adopted: { id: seeded.id } });
    expect(t.rancher.calls.map((c) => c.method)).not.toContain('createKey');
    expect(t.events.reasons()).toContain('AdoptedKey');
  });

  it.each([
    ['a pair that does not authenticate', 'AdoptAuthenticationFailed', { secretValue: 'wrong' }, {}],
    ['a key in another scope', 'AdoptKeyOutOfScope', {}, { accountId: '1a9' }],
    [
      'an inactive key (it cannot authenticate)',
      'AdoptAuthenticationFailed',
      {},
      { state: 'inactive' as const },
    ],
    [
      'a key another ApiKey owns',
      'AdoptKeyOwned',
      {},
      {
        description: `[managed by rancher-apikey-operator: team-b/x ${markerToken('bbbbbbbb-0000-4000-8000-000000000002')}]`,
      },
    ],
    ['a Secret that does not exist', 'AdoptSecretNotFound', { secretValue: null }, {}],
  ])(
    'refuses %s: Stalled %s, a Warning Event, no finalizer and nothing changed in Rancher',
    async (_n, reason, opts, seed) => {
      const t = world(opts);
      const seeded = t.rancher.seed({
        publicValue: PV,
        secretValue: SECRET,
        description: 'made by hand',
        ...seed,
      });
      const before = t.rancher.peek(seeded.id);
      await t.pass();
      await t.pass();
      expect(t.condition('Ready')).toMatchObject({ status: 'False', reason });
      expect(t.condition('Stalled')).toMatchObject({ status: 'True', reason });
      expect(t.events.reasons().filter((r) => r === reason)).toHaveLength(1);
      expect(t.rancherWrites()).toEqual([]);
      expect(t.rancher.peek(seeded.id)).toEqual(before);
      expect(t.obj().metadata.finalizers).toEqual([]);
      expect(t.secrets.get('team-a', 'ci')).toBeUndefined();
    },
  );

  it('never names another namespace: the value is read from the ApiKey namespace only', async () => {
    const t = world({ secretValue: null });
    t.secrets.put({ metadata: { name: 'legacy', namespace: 'team-b' }, data: { secretValue: b64(SECRET) } });
    t.rancher.seed({ publicValue: PV, secretValue: SECRET, description: null });
    await t.pass();
    expect(t.secrets.reads).toContain('team-a/legacy');
    expect(t.secrets.reads).not.toContain('team-b/legacy');
    expect(t.condition('Ready')?.reason).toBe('AdoptSecretNotFound');
  });

  it('a crash after the marker and before the Secret: the next pass adopts the key again, never retires it', async () => {
    const t = world({ fresh: false });
    const marker = `[managed by rancher-apikey-operator: team-a/ci ${markerToken(UID)}]`;
    const seeded = t.rancher.seed({ publicValue: PV, secretValue: SECRET, description: marker, name: 'ci' });
    for (let i = 0; i < 3; i++) await t.pass();
    expect(t.rancherWrites()).toEqual([]);
    expect(t.obj().status).toMatchObject({ id: seeded.id, adopted: { id: seeded.id } });
    expect(t.condition('Ready')?.reason).toBe('KeyActive');
  });

  it('plan mode reports the adoption and performs none of it', async () => {
    const t = world({ spec: { mode: 'Plan' } });
    t.rancher.seed({ publicValue: PV, secretValue: SECRET, description: null });
    await t.pass();
    const planned = t.obj().status?.plannedActions as { action: string }[];
    expect(planned.map((a) => a.action)).toEqual(['AddFinalizer', 'AdoptKey']);
    expect(t.rancherWrites()).toEqual([]);
    expect(t.secrets.get('team-a', 'ci')).toBeUndefined();
  });
});
