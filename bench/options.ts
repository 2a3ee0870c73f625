import { parseArgs } from 'node:util';

/** BenchOptions are the benchmark's knobs; the CLI flags map onto them one to one. */
export interface BenchOptions {
  keys: number;
  /** concurrency is both the operator's CONCURRENCY and the benchmark client's request concurrency. */
  concurrency: number;
  rancherLatencyMs: number;
  json: boolean;
  /** namespaces is how many namespaces the burst's ApiKeys are spread over. */
  namespaces: number;
  driftCheckIntervalS: number;
  /** latencyKeys / latencyRate: the steady stream of new keys whose create-to-Ready time is measured. */
  latencyKeys: number;
  latencyRate: number;
  unrelatedSecrets: number;
  operatorLogLevel: string;
  /** cpuProfDir, when set, runs the operator with --cpu-prof and writes its profile there on exit. */
  cpuProfDir?: string;
  /** heapSnapshotDir, when set, makes every memory sample also write an operator heap snapshot there. */
  heapSnapshotDir?: string;
  /** operatorNodeOptions are extra NODE_OPTIONS for the operator process (e.g. V8 heap flags). */
  operatorNodeOptions?: string;
  /** emulatorInProcess runs the Rancher emulator on the benchmark's event loop instead of its own process. */
  emulatorInProcess: boolean;
}

/** defaultOptions returns the options for `keys` ApiKeys (the other defaults follow the design's targets). */
export function defaultOptions(keys = 1000): BenchOptions {
  return {
    keys,
    // The operator's default CONCURRENCY, so a plain `npm run bench` measures the Deployment as shipped.
    concurrency: 32,
    rancherLatencyMs: 0,
    json: false,
    namespaces: 4,
    // Short enough to see drift checks in a short window, long enough that they do not crowd out the
    // latency phase: 10 s up to 100 keys, then one key per 100 ms (1000 keys: 100 s).
    driftCheckIntervalS: Math.max(10, Math.ceil(keys / 10)),
    latencyKeys: Math.min(keys, 200),
    latencyRate: 20,
    unrelatedSecrets: 10_000,
    operatorLogLevel: 'info',
    emulatorInProcess: false,
  };
}

const USAGE = `usage: npm run bench -- [--keys N] [--concurrency C] [--rancher-latency-ms L] [--json]
  --keys N                 ApiKeys in the burst (default 1000)
  --concurrency C          operator CONCURRENCY and client concurrency (default 32)
  --rancher-latency-ms L   added latency of every Rancher request (default 0)
  --json                   print one JSON object on the last line
  --namespaces K           namespaces the keys are spread over (default 4)
  --drift-check-interval S operator DRIFT_CHECK_INTERVAL in seconds (default max(10, N/10))
  --latency-keys M         keys created at a steady rate for the latency phase (default min(N, 200))
  --latency-rate R         keys per second in the latency phase (default 20)
  --unrelated-secrets U    unrelated Secrets added before the second RSS sample (default 10000)
  --operator-log-level L   operator LOG_LEVEL (default info)
  --cpu-prof-dir DIR       run the operator with --cpu-prof, profile written to DIR
  --heap-snapshot-dir DIR  write an operator heap snapshot at every memory sample (holds key secrets; local use)
  --emulator-in-process    run the Rancher emulator in the benchmark process (default: its own process)
  --operator-node-options=S  extra NODE_OPTIONS for the operator (e.g. "--operator-node-options=--max-semi-space-size=2")`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}\n${USAGE}`);
  return n;
}

/** parseOptions parses the CLI flags; it throws with the usage text on bad input. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      keys: { type: 'string' },
      concurrency: { type: 'string' },
      'rancher-latency-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      namespaces: { type: 'string' },
      'drift-check-interval': { type: 'string' },
      'latency-keys': { type: 'string' },
      'latency-rate': { type: 'string' },
      'unrelated-secrets': { type: 'string' },
      'operator-log-level': { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      'operator-node-options': { type: 'string' },
      'heap-snapshot-dir': { type: 'string' },
      'emulator-in-process': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const keys = positiveInt('keys', values.keys, 1000);
  const d = defaultOptions(keys);
  return {
    keys,
    concurrency: positiveInt('concurrency', values.concurrency, d.concurrency),
    rancherLatencyMs: positiveInt('rancher-latency-ms', values['rancher-latency-ms'], 0, 0),
    json: values.json,
    namespaces: positiveInt('namespaces', values.namespaces, d.namespaces),
    driftCheckIntervalS: positiveInt(
      'drift-check-interval',
      values['drift-check-interval'],
      d.driftCheckIntervalS,
    ),
    latencyKeys: positiveInt('latency-keys', values['latency-keys'], d.latencyKeys, 0),
    latencyRate: positiveInt('latency-rate', values['latency-rate'], d.latencyRate),
    unrelatedSecrets: positiveInt('unrelated-secrets', values['unrelated-secrets'], d.unrelatedSecrets, 0),
    operatorLogLevel: values['operator-log-level'] ?? d.operatorLogLevel,
    emulatorInProcess: values['emulator-in-process'],
    ...(values['cpu-prof-dir'] ? { cpuProfDir: values['cpu-prof-dir'] } : {}),
    ...(values['operator-node-options'] ? { operatorNodeOptions: values['operator-node-options'] } : {}),
    ...(values['heap-snapshot-dir'] ? { heapSnapshotDir: values['heap-snapshot-dir'] } : {}),
  };
}

/** usage is the CLI help text. */
export const usage = (): string => USAGE;
