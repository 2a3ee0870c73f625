import { describe, expect, it } from 'vitest';
import { DurationSchema } from './common.ts';
import { formatTimestamp, MAX_DURATION_MS, parseDuration } from './time.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['2m3s4ms', 123_004],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1000000ns', 1],
    ['0', 0],
    [' 2s ', 2_000],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', '10', 'ten seconds', '5x', '1d', '-1s', '+1s', '1h junk', 's', '1.2.3s', '1h 30m'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('returns undefined beyond about ten years by default, so a Date built from it never overflows', () => {
    expect(parseDuration('87840h')).toBe(MAX_DURATION_MS);
    expect(parseDuration('87841h')).toBeUndefined();
    expect(parseDuration('99999999999999999999h')).toBeUndefined();
    expect(parseDuration(`${'9'.repeat(400)}h`)).toBeUndefined();
    expect(() => new Date(Date.now() + MAX_DURATION_MS).toISOString()).not.toThrow();
  });

  it('takes another upper bound, or none, from its caller', () => {
    expect(parseDuration('2s', 1_000)).toBeUndefined();
    expect(parseDuration('1s', 1_000)).toBe(1_000);
    expect(parseDuration('87841h', Number.POSITIVE_INFINITY)).toBe(87_841 * 3_600_000);
    expect(parseDuration(`${'9'.repeat(400)}h`, Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('reads every duration a spec field accepts the same way the old integer-only parser did', () => {
    for (const text of ['1h', '720h', '8760h', '10m', '90s', '250ms', '1h30m15s500ms', '999999h']) {
      expect(DurationSchema.safeParse(text).success).toBe(true);
      let expected = 0;
      for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
        expected += Number(n) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
      }
      expect(parseDuration(text)).toBe(expected <= MAX_DURATION_MS ? expected : undefined);
    }
  });
});

describe('formatTimestamp', () => {
  it('writes RFC 3339 UTC without fractional seconds', () => {
    expect(formatTimestamp(Date.parse('2030-01-01T00:00:00.999Z'))).toBe('2030-01-01T00:00:00Z');
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00Z');
  });

  it('round-trips through Date.parse to the second', () => {
    const ms = Date.parse('2031-06-15T12:34:56Z');
    expect(Date.parse(formatTimestamp(ms + 123))).toBe(ms);
  });
});
