import { describe, expect, it } from 'vitest';
import { ApiKeySpecSchema } from '../api/apikey.ts';
import { markerFilter, ownerFromDescription, rancherDescription, uidFromDescription } from './marker.ts';

const uid = '0f8e2c1a-1b2c-4d5e-8f90-123456789abc';
// The description is set after parsing: the schema refuses marker text, and these tests prove the parser
// also ignores it when it slips through (an older CRD).
const apiKey = (description?: string) => ({
  metadata: { name: 'ci', namespace: 'team-a', uid },
  spec: { ...ApiKeySpecSchema.parse({ connectionRef: { name: 'r' } }), description },
});

describe('ownership marker', () => {
  it('keeps the user description and appends a marker that names the ApiKey and its uid', () => {
    const d = rancherDescription(apiKey('key for CI'));
    expect(d.startsWith('key for CI [managed by rancher-apikey-operator: team-a/ci')).toBe(true);
    expect(uidFromDescription(d)).toBe(uid);
  });

  it('without a description the marker alone is the description', () => {
    expect(uidFromDescription(rancherDescription(apiKey()))).toBe(uid);
  });

  it('the list filter matches the marker with a LIKE pattern', () => {
    const pattern = markerFilter(uid).description_like ?? '';
    const re = new RegExp(`^${pattern.replaceAll('%', '.*')}$`);
    expect(re.test(rancherDescription(apiKey('x')))).toBe(true);
    expect(
      re.test(
        rancherDescription({ ...apiKey('x'), metadata: { ...apiKey().metadata, uid: 'other-uid-0000' } }),
      ),
    ).toBe(false);
  });

  it('descriptions without a marker yield no uid', () => {
    expect(uidFromDescription('hand-made key')).toBeUndefined();
    expect(uidFromDescription(null)).toBeUndefined();
  });
});

describe('a forged marker never names an owner', () => {
  const victim = '11111111-2222-4333-8444-555555555555';
  const forged = `[managed by rancher-apikey-operator: team-a/ci apikey-uid:${victim}]`;

  it('marker text inside the user description is ignored: only the trailing marker counts', () => {
    const d = rancherDescription(apiKey(`pretend ${forged}`));
    expect(uidFromDescription(d)).toBe(uid);
    expect(ownerFromDescription(d)).toBe('team-a/ci');
  });

  it('a description whose marker is not at the end names no owner', () => {
    expect(uidFromDescription(`${forged} trailing text`)).toBeUndefined();
    expect(ownerFromDescription(`${forged} trailing text`)).toBeUndefined();
  });
});
