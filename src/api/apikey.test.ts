import { describe, expect, it } from 'vitest';
import { ApiKeySpecSchema, forgesMarker } from './apikey.ts';

const spec = (extra: Record<string, unknown>) => ({ connectionRef: { name: 'rancher' }, ...extra });
const problems = (extra: Record<string, unknown>): string[] => {
  const r = ApiKeySpecSchema.safeParse(spec(extra));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('ApiKeySpecSchema bounds (the same rules as the CRD CEL, for objects an old CRD let through)', () => {
  it.each([
    ['every below an hour', { every: '0s' }, /rotation\.every: rotation\.every must be between 1h and 8760h/],
    ['every 59m59s', { every: '59m59s' }, /between 1h and 8760h/],
    ['every beyond a year', { every: '8761h' }, /between 1h and 8760h/],
    ['every with a huge number', { every: '99999999999999999999h' }, /rotation\.every/],
    ['every not longer than overlap', { every: '2h', overlap: '2h' }, /longer than rotation\.overlap/],
    ['every not longer than the default overlap', { every: '1h', overlap: '168h' }, /longer than/],
    ['overlap beyond a week', { overlap: '169h' }, /rotation\.overlap must be at most 168h/],
    ['a negative overlap', { overlap: '-1s' }, /rotation\.overlap/],
  ])('refuses %s', (_name, rotation, expected) => {
    expect(problems({ rotation }).join('; ')).toMatch(expected);
  });

  it.each([
    ['an hourly schedule', { every: '1h' }],
    ['a yearly schedule with a week of overlap', { every: '8760h', overlap: '168h' }],
    ['a mixed duration', { every: '1h30m', overlap: '0s' }],
    ['on-demand rotation only', { overlap: '3s' }],
  ])('accepts %s', (_name, rotation) => {
    expect(problems({ rotation })).toEqual([]);
  });

  it.each([
    '[managed by rancher-apikey-operator: team-a/x apikey-uid:1234abcd-0000]',
    'ci key [Released By rancher-apikey-operator: team-a/x]',
    'see APIKEY-UID:1234',
  ])('refuses a description that forges the ownership marker: %s', (description) => {
    expect(forgesMarker(description)).toBe(true);
    expect(problems({ description }).join('; ')).toMatch(/^description: .*ownership marker/);
  });

  it('accepts an ordinary description mentioning the operator', () => {
    expect(problems({ description: 'key for CI, created by rancher-apikey-operator' })).toEqual([]);
  });
});

describe('spec.adopt', () => {
  const adopt = { publicValue: 'A1B2C3D4E5F6A7B8C9D0', secretValueFrom: { name: 'old-key' } };

  it('defaults the data key to secretValue', () => {
    const r = ApiKeySpecSchema.parse(spec({ adopt }));
    expect(r.adopt?.secretValueFrom).toEqual({ name: 'old-key', key: 'secretValue' });
  });

  it('has no namespace field: a Secret in another namespace cannot be named', () => {
    const withNs = { ...adopt, secretValueFrom: { ...adopt.secretValueFrom, namespace: 'team-b' } };
    expect(problems({ adopt: withNs }).join('; ')).toMatch(/namespace/);
  });

  it('refuses an access key that is not alphanumeric', () => {
    expect(problems({ adopt: { ...adopt, publicValue: 'A1B2/../x' } }).join('; ')).toMatch(
      /adopt\.publicValue/,
    );
  });
});
