// Durations and timestamps as the API and the configuration write them: one grammar, one format.

/** MAX_DURATION_MS bounds parseDuration: beyond about ten years a schedule is meaningless and Date overflows. */
export const MAX_DURATION_MS = 10 * 366 * 24 * 3_600_000;

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * parseDuration converts a non-negative Go duration (time.ParseDuration's grammar without a sign: "500ms",
 * "1h30m", "1.5s", "250us", a bare "0"; surrounding spaces ignored) to milliseconds, keeping sub-millisecond
 * parts as fractions. It returns undefined for malformed text or a value above maxMs, which defaults to
 * MAX_DURATION_MS so that `new Date(now + ms)` is always valid. Spec fields are narrower still: DurationSchema.
 */
export function parseDuration(text: string, maxMs = MAX_DURATION_MS): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < s.length) {
    const start = COMPONENT.lastIndex;
    const match = COMPONENT.exec(s);
    if (!match || match.index !== start) return undefined;
    const [, amount, unit] = match;
    const factor = unit === undefined ? undefined : UNIT_MS[unit];
    if (amount === undefined || factor === undefined) return undefined;
    total += Number(amount) * factor;
  }
  return Number.isFinite(total) && total <= maxMs ? total : undefined;
}

/**
 * formatTimestamp renders epoch milliseconds as RFC 3339 UTC without fractional seconds
 * ("2030-01-01T00:00:00Z"), the form Kubernetes writes for metav1.Time and the operator writes in status.
 */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
