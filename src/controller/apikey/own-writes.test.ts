import { describe, expect, it } from 'vitest';
import { ABSENT, echoOnly, type OwnWrite } from './own-writes.ts';

const last: OwnWrite = {
  secretName: 'ci',
  apiKeyVersions: ['10', '11', '12'],
  secretVersions: ['20'],
  until: 1_000,
};
const cached = (apiKeyVersion: string | undefined, secret: string) => ({
  apiKeyVersion,
  secretVersion: (name: string) => (name === 'ci' ? secret : 'wrong-secret-name'),
});

describe('echoOnly: a pass woken only by the echo of its own writes is skipped', () => {
  it('any ApiKey version the pass knew, with the Secret it wrote, is an echo', () => {
    for (const v of ['10', '11', '12']) expect(echoOnly(last, cached(v, '20'), 0)).toBe(true);
  });
  it('a version written by someone else, of the ApiKey or of the Secret, is news', () => {
    expect(echoOnly(last, cached('13', '20'), 0)).toBe(false);
    expect(echoOnly(last, cached('12', '21'), 0)).toBe(false);
  });
  it('a Secret deleted after the pass wrote it is news', () => {
    expect(echoOnly(last, cached('12', ABSENT), 0)).toBe(false);
  });
  it('a pass whose wake-up time has come runs (drift checks and rotations are never skipped)', () => {
    expect(echoOnly(last, cached('12', '20'), 1_000)).toBe(false);
  });
  it('no memory, or an ApiKey gone from the cache: the pass runs', () => {
    expect(echoOnly(undefined, cached('12', '20'), 0)).toBe(false);
    expect(echoOnly(last, cached(undefined, '20'), 0)).toBe(false);
  });
});
