#!/usr/bin/env node
// Renders docs/reliability.md from the JSON lines the fault suites append (test/invariants/results.ts).
// Usage: node scripts/reliability-report.ts [--reset] [--vitest-exit=N] [results.jsonl] [out.md]
// (npm run test:faults gives each run its own results file, so that concurrent e2e runs cannot mix rows in.)
//   --reset          deletes the results file (run it before the fault suites); default paths as in results.ts.
//   --vitest-exit=N  the exit status of the vitest run that produced the results (non-zero is reported).
// Every expected scenario (EXPECTED below) gets a line: a row when it ran, and "did not run" when it did not.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsPath, type ScenarioResult } from '../test/invariants/results.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

type Row = ScenarioResult & { at: string };

const NOT_COVERED = [
  'A watch that stalls while the apiserver stays up: it needs a proxy between the operator and the apiserver; ' +
    "the informer's stall watchdog and relist are unit-tested (`src/kube/informer.test.ts`, `informer-loopback.test.ts`).",
  '410 Gone from etcd compaction: not forced directly (no etcdctl in the test bed); apiserver and etcd restarts ' +
    'make every informer relist, which is the same recovery path.',
];

const FAULT_KINDS = ['503', 'reset', 'hang', 'lostResponse'];
const CREDS = ['admin', 'user'];

/**
 * EXPECTED lists the full test name (file > describe > test) of every scenario `npm run test:faults`
 * must record, built with the same loops as the suites. Keep it in step with the test files: a renamed
 * or deleted test shows here as "did not run".
 */
export const EXPECTED: string[] = [
  'test/e2e/faults-attacks.test.ts > secret-leak canary over the whole run (trace logging) > no secret value anywhere but Secret.data, no write outside the namespaces, one key per Ready ApiKey',
  ...['after-persist-before-create', 'after-create-before-secret', 'after-secret-before-status'].flatMap(
    (point) =>
      CREDS.map(
        (creds) =>
          `test/e2e/faults-crash-points.test.ts > kill -9 at each crash point, then a clean restart: the invariants hold > ${point} with ${creds} credentials: one working key, no orphan, no lost secret`,
      ),
  ),
  ...[
    ['after-remove-before-purge', 'Purge'],
    ['after-purge-before-finalizer', 'Purge'],
    ['after-remove-before-purge', 'Remove'],
  ].map(
    ([point, policy]) =>
      `test/e2e/faults-crash-points.test.ts > kill -9 at each crash point, then a clean restart: the invariants hold > ${point} while deleting (deletionPolicy ${policy}): the ApiKey goes, its key ends retired, no finalizer is stuck`,
  ),
  'test/e2e/faults-churn.test.ts > kill -9 during a churn of creates, updates and deletes > two kills in 24 rounds (seed 7): every invariant holds after a restart',
  ...CREDS.map(
    (creds) =>
      `test/e2e/faults-rancher.test.ts > Rancher failures: no orphan, no half-written Secret, convergence after recovery > a lost create response (${creds} credentials) leaves exactly one working key`,
  ),
  'test/e2e/faults-rancher.test.ts > Rancher failures: no orphan, no half-written Secret, convergence after recovery > 503 on two actions of every step (deactivate, activate, retire) still converges',
  'test/e2e/faults-rancher.test.ts > Rancher failures: no orphan, no half-written Secret, convergence after recovery > a 12 s outage: the operator backs off (fewer requests late than early), at most 5 requests/s per object (1/s once backed off), converges after',
  ...[11, 23, 42].map(
    (seed) =>
      `test/faults/churn.test.ts > kill -9 at random moments of a long churn > seed ${seed}: 80 rounds, 8 kills, every invariant holds once it settles`,
  ),
  ...[
    'apiserver SIGTERM restart, 3 s down',
    'apiserver SIGKILL, 12 s down (longer than the renew deadline)',
    'etcd SIGKILL, 5 s down',
  ].map(
    (name) =>
      `test/faults/kube-faults.test.ts > control plane faults mid-run > ${name}: creates and a deletion in flight converge, every invariant holds`,
  ),
  'test/faults/kube-faults.test.ts > control plane faults mid-run > conflict storm: 8 writers × 5 concurrent spec updates of one ApiKey end on its last spec, one key',
  'test/faults/kube-faults.test.ts > leader failover with two replicas > the standby takes over after the leader is killed; no duplicate key, every invariant holds',
  ...FAULT_KINDS.flatMap((name) => {
    // Failed creates per test, as in test/faults/rancher-faults.test.ts (createTimes).
    const times = (creds: string) =>
      name === 'hang' || (name === 'lostResponse' && creds === 'admin') ? 1 : 2;
    const describe =
      'test/faults/rancher-faults.test.ts > Rancher failures on every route: no orphan, no half-written Secret, convergence';
    return [
      ...CREDS.map(
        (creds) =>
          `${describe} > ${name} on create (${creds} credentials, ${times(creds)}×): exactly one working key`,
      ),
      `${describe} > ${name} on actions (each step): deactivate, activate and retire converge`,
    ];
  }),
  'test/faults/rancher-faults.test.ts > Rancher failures on every route: no orphan, no half-written Secret, convergence > a 20 s outage with 5 pending keys: backoff, at most 5 requests/s per object (1/s once backed off), convergence after',
];

/** parse reads the JSON lines; a line cut short by a killed run is counted, not fatal. */
export function parse(text: string): { rows: Row[]; unreadable: number } {
  const rows: Row[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as Row;
      if (typeof r.id === 'string' && typeof r.passed === 'boolean') rows.push(r);
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { rows, unreadable };
}

/** latest keeps the last row of each test (by its full name: two tests never share a row). */
export function latest(rows: Row[]): Row[] {
  const byId = new Map<string, Row>();
  for (const r of rows) byId.set(r.id, r);
  return [...byId.values()];
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const file = (id: string): string =>
  id
    .split(' > ')[0]
    ?.replace(/^test\//, '')
    .replace(/\.test\.ts$/, '') ?? '';

function result(r: Row): string {
  const found = r.violations.map((v) => `#${v.invariant} ${v.message}`).join('; ');
  if (r.passed && r.violations.length === 0) return 'passed; invariants hold';
  const why = [found && `violated: ${found}`, r.error && `error: ${r.error}`].filter(Boolean).join('; ');
  return `**FAILED**: ${cell((why || 'the test failed').slice(0, 400))}`;
}

/**
 * render builds the page; `vitestExit` is the status of the run (undefined when not given), `commit` the
 * commit the suites ran on.
 */
export function render(rows: Row[], vitestExit: number | undefined, unreadable = 0, commit?: string): string {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = EXPECTED.filter((id) => !byId.has(id));
  const failed = rows.filter((r) => !r.passed || r.violations.length > 0);
  const unexpected = rows.filter((r) => !EXPECTED.includes(r.id));
  const passed = rows.length - failed.length;
  const last =
    rows
      .map((r) => r.at)
      .sort()
      .at(-1) ?? 'never';
  const healthy = missing.length === 0 && failed.length === 0 && vitestExit === 0 && unreadable === 0;
  const lines = [
    '# Reliability: faults injected and invariants checked',
    '',
    'Generated by `npm run test:faults` (`scripts/reliability-report.ts`) from the results the fault suites',
    '(`test/e2e/faults-*.test.ts`, `test/faults/**`) record; do not edit by hand. Each row is one test, written',
    'after the test finished, so it passed only if every one of its checks passed. `times` is measured, not',
    'declared: the hits of the emulator fault rules (each must equal the rule’s times), the crashes seen (the',
    "armed process's own crash line and a SIGKILL death), the restarts of the control plane component (a new",
    'pid), the 409 Conflicts the writers got, the SIGKILLs of a churn, or the attacks refused. Each scenario',
    'ends with `checkInvariants` (`test/invariants/checker.ts`), which requires convergence: no ApiKey left',
    'with a deletionTimestamp and every unpaused ApiKey Ready at its current generation (or refused with its',
    'expected reason) with exactly one non-purged Rancher key and no orphan (1), every Ready Active Secret',
    'authenticates (2), every recorded Secret version holds both values, no write changed one without the',
    "other and each Ready ApiKey's current Secret version was recorded (3), deleted ApiKeys gone with their",
    'Secrets and keys retired per policy (4), no secret value in logs (debug or trace), Events, status,',
    'annotations, connections or /metrics (5), no operator write outside the ApiKey namespaces and no Secret',
    'takeover (6), and, where a steady window is run, zero apiserver and Rancher writes (7).',
    '`test/e2e/faults-checker.test.ts` plants one violation of each invariant (and of convergence) in a',
    'non-empty world and shows the checker reports it.',
    '',
    `Last run ${last}${commit ? ` on commit ${commit}` : ''}: vitest exit status ${vitestExit ?? 'unknown'}; ${EXPECTED.length} expected scenarios, ${rows.length} recorded, ${passed} passed, ${failed.length} failed, ${missing.length} did not run.`,
    '',
  ];
  if (!healthy) {
    lines.push('**This run does not prove every claim below:**', '');
    if (vitestExit !== 0)
      lines.push(
        `- vitest exited with status ${vitestExit ?? 'unknown'}: some test failed or the run broke.`,
      );
    for (const r of failed) lines.push(`- did not hold: \`${cell(r.id)}\``);
    for (const id of missing) lines.push(`- did not run: \`${cell(id)}\``);
    if (unreadable > 0) lines.push(`- ${unreadable} result line(s) could not be read (a run cut short?).`);
    lines.push('');
  }
  lines.push(
    '| file | suite | scenario | injected | times | result | duration | note |',
    '|---|---|---|---|---|---|---|---|',
  );
  const order = (r: Row) => {
    const i = EXPECTED.indexOf(r.id);
    return i < 0 ? EXPECTED.length : i;
  };
  for (const r of [...rows].sort((a, b) => order(a) - order(b))) {
    const extra = EXPECTED.includes(r.id) ? '' : ' (not in the expected list)';
    lines.push(
      `| ${cell(file(r.id))} | ${cell(r.suite)} | ${cell(r.scenario)}${extra} | ${cell(r.injected)} | ${r.times} | ${result(r)} | ${(r.durationMs / 1000).toFixed(1)} s | ${cell(r.note ?? '')} |`,
    );
  }
  for (const id of missing)
    lines.push(`| ${cell(file(id))} | | ${cell(id.split(' > ').at(-1) ?? id)} | | | **did not run** | | |`);
  if (unexpected.length > 0) lines.push('', `${unexpected.length} row(s) are not in the expected list.`);
  lines.push('', '## Not covered', '', ...NOT_COVERED.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

/** headCommit is the checkout's commit (the one the suites just ran on), or undefined outside git. */
function headCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function main(argv: string[]): void {
  const exitArg = argv.find((a) => a.startsWith('--vitest-exit='));
  const args = argv.filter((a) => !a.startsWith('--'));
  const input = args[0] ?? resultsPath();
  if (argv.includes('--reset')) {
    rmSync(input, { force: true });
    return;
  }
  const out = args[1] ?? join(ROOT, 'docs', 'reliability.md');
  const { rows, unreadable } = existsSync(input)
    ? parse(readFileSync(input, 'utf8'))
    : { rows: [], unreadable: 0 };
  const vitestExit = exitArg ? Number(exitArg.slice('--vitest-exit='.length)) : undefined;
  const kept = latest(rows);
  writeFileSync(out, render(kept, vitestExit, unreadable, headCommit()));
  const missing = EXPECTED.filter((id) => !kept.some((r) => r.id === id)).length;
  const failed = kept.filter((r) => !r.passed || r.violations.length > 0).length;
  process.stdout.write(
    `wrote ${out} (${kept.length} scenarios from ${input}; ${failed} failed, ${missing} of ${EXPECTED.length} expected did not run; vitest exit ${vitestExit ?? 'unknown'})\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
