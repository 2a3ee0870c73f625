import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { Violation } from './model.ts';

/**
 * ScenarioResult is one row of docs/reliability.md: one test, what was injected, how often it really
 * happened (measured), what the checker found, and whether the test passed with every one of its checks.
 */
export interface ScenarioResult {
  /** The test's full name (file > describe > test): one row per test, never shared. */
  id: string;
  suite: string;
  scenario: string;
  injected: string;
  /** How many times the fault was measured to happen (rule hits, SIGKILLs seen, 409s counted). */
  times: number;
  violations: Violation[];
  durationMs: number;
  note?: string;
  /** The test's own outcome, written after it finished: every assertion of the test is inside. */
  passed: boolean;
  /** The test's failures (an assertion, a timeout, a failed step), if any. */
  error?: string;
}

/** Measured is what a scenario returns: the checker's violations and the measured fault count. */
export interface Measured {
  violations: Violation[];
  times: number;
  note?: string;
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

/**
 * timed runs scenario `fn` inside the current test and returns its violations. The row is not written
 * here: it is written once the whole test has finished (onTestFinished), with the test's pass/fail state
 * and errors, so that every assertion after `timed` (bounds, expected crashes) is part of the row.
 */
export async function timed(
  meta: { suite: string; scenario: string; injected: string },
  fn: () => Promise<Measured>,
): Promise<Violation[]> {
  const start = Date.now();
  let measured: Measured | undefined;
  let durationMs: number | undefined;
  onTestFinished(({ task }) => {
    const errors = (task.result?.errors ?? []).map((e) => e.message ?? String(e));
    recordResult({
      ...meta,
      id: task.fullName,
      times: measured?.times ?? 0,
      violations: measured?.violations ?? [],
      note: measured?.note,
      durationMs: durationMs ?? Date.now() - start,
      passed: task.result?.state === 'pass',
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    });
  });
  measured = await fn();
  durationMs = Date.now() - start;
  return measured.violations;
}
