import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Violation } from './model.ts';

/** ScenarioResult is one row of docs/reliability.md: what was injected, how often, and what held. */
export interface ScenarioResult {
  suite: string;
  scenario: string;
  injected: string;
  times: number;
  violations: Violation[];
  durationMs: number;
  note?: string;
  /** The error that ended the scenario early (a timeout, a failed step), if any. */
  error?: string;
}

/** resultsPath is the JSON-lines file fault suites append to (RELIABILITY_RESULTS, or one in the temp dir). */
export function resultsPath(): string {
  return process.env.RELIABILITY_RESULTS ?? join(tmpdir(), 'rancher-apikey-operator-reliability.jsonl');
}

/** recordResult appends one scenario result, with its date, to resultsPath() for scripts/reliability-report.ts. */
export function recordResult(r: ScenarioResult): void {
  const path = resultsPath();
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify({ ...r, at: new Date().toISOString() })}\n`);
}

/** timed runs `fn`, records its violations as a scenario result, and returns them. */
export async function timed(
  meta: Omit<ScenarioResult, 'violations' | 'durationMs'>,
  fn: () => Promise<Violation[] | { violations: Violation[]; note: string }>,
): Promise<Violation[]> {
  const start = Date.now();
  try {
    const r = await fn();
    const { violations, note } = Array.isArray(r) ? { violations: r, note: meta.note } : r;
    recordResult({ ...meta, violations, note, durationMs: Date.now() - start });
    return violations;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    recordResult({ ...meta, violations: [], error, durationMs: Date.now() - start });
    throw err;
  }
}
