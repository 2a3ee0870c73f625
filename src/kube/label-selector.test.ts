import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from './label-selector.ts';

const matches = (selector: string, labels: Record<string, string> | undefined) =>
  parseLabelSelector(selector)?.matches(labels);

describe('parseLabelSelector', () => {
  it.each([
    ['', { any: 'x' }, true],
    ['', undefined, true],
    ['shard=a', { shard: 'a' }, true],
    ['shard==a', { shard: 'a' }, true],
    ['shard=a', { shard: 'b' }, false],
    ['shard=a', {}, false],
    ['shard!=a', {}, true],
    ['shard!=a', { shard: 'a' }, false],
    ['shard in (a, b)', { shard: 'b' }, true],
    ['shard in (a,b)', { shard: 'c' }, false],
    ['shard notin (a,b)', { shard: 'c' }, true],
    ['shard notin (a,b)', {}, true],
    ['shard', { shard: '' }, true],
    ['!shard', { shard: 'a' }, false],
    ['!shard', { team: 'a' }, true],
    ['example.com/shard=a, tier in (x,y), !legacy', { 'example.com/shard': 'a', tier: 'y' }, true],
    [
      'example.com/shard=a, tier in (x,y), !legacy',
      { 'example.com/shard': 'a', tier: 'y', legacy: '1' },
      false,
    ],
  ])('%j matches %j: %s', (selector, labels, expected) => {
    expect(matches(selector, labels)).toBe(expected);
  });

  it.each(['shard=a=b', 'shard in a', '!shard=a', '=a', 'shard in (a'])('refuses the malformed %j', (s) => {
    expect(parseLabelSelector(s)).toBeUndefined();
  });
});
