// Key formats and hashing at rest (reference §2, §4).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generatePublicValue, generateSecretValue, hashSecret, verifySecret } from './keygen.ts';
import { parseRancherId } from './model.ts';

describe('generated values', () => {
  it('publicValues are 20 uppercase hex characters and secrets 40 characters without O, 0, l, I, +, / or =', () => {
    for (let i = 0; i < 200; i++) {
      expect(generatePublicValue()).toMatch(/^[0-9A-F]{20}$/);
      expect(generateSecretValue()).toMatch(/^[A-HJ-NP-Za-km-z1-9]{40}$/);
    }
    expect(new Set(Array.from({ length: 50 }, generateSecretValue)).size).toBe(50);
  });
});

describe('hashing', () => {
  it('hashSecret stores SHA256:<salt>:<hex sha256(salt || secret)> with a fresh salt each time', () => {
    const stored = hashSecret('s3cret');
    const [hasher, salt = '', hash] = stored.split(':');
    expect(hasher).toBe('SHA256');
    expect(salt).toMatch(/^[0-9a-f]{20}$/);
    expect(hash).toBe(createHash('sha256').update(`${salt}s3cret`).digest('hex'));
    expect(hashSecret('s3cret')).not.toBe(stored);
  });

  it('verifySecret accepts the right secret, rejects others, compares legacy values without a hasher as plain text', () => {
    const stored = hashSecret('right');
    expect(verifySecret(stored, 'right')).toBe(true);
    expect(verifySecret(stored, 'wrong')).toBe(false);
    expect(verifySecret('plain', 'plain')).toBe(true);
    expect(verifySecret('plain', 'other')).toBe(false);
    expect(verifySecret(null, '')).toBe(false);
    expect(verifySecret('MD5:aa:bb', 'x')).toBe(false);
  });
});

describe('ids', () => {
  it.each([
    ['1c3', 3],
    ['1a5', 5],
    ['1x3', 3],
    ['1C12', undefined],
    ['abc', undefined],
    ['123', undefined],
    ['1c', undefined],
    ['2c3', undefined],
  ])('parseRancherId(%s) is %s', (id, expected) => {
    expect(parseRancherId(id)).toBe(expected);
  });
});
