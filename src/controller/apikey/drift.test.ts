import { describe, expect, it } from 'vitest';
import { createDriftTracker } from './drift.ts';

describe('drift tracker', () => {
  it('a key never checked is due at once; after a check it is due again after the jittered interval', () => {
    const d = createDriftTracker(10_000, 0.1, () => 0.5);
    expect(d.due('u', 0)).toBe(true);
    expect(d.checked('u', 0)).toBe(10_000);
    expect(d.due('u', 9_999)).toBe(false);
    expect(d.untilDue('u', 4_000)).toBe(6_000);
    expect(d.due('u', 10_000)).toBe(true);
    expect(d.untilDue('u', 12_000)).toBe(0);
  });

  it('jitter spreads checks within ±10 % of the interval', () => {
    expect(createDriftTracker(10_000, 0.1, () => 0).checked('a', 0)).toBe(9_000);
    expect(createDriftTracker(10_000, 0.1, () => 1).checked('a', 0)).toBe(11_000);
  });
});
