import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import {
  type Config,
  ConfigSchema,
  DEFAULT_OPERATOR_NAMESPACE,
  SETTING_SOURCES,
  type SettingSource,
} from './schema.ts';

export { type Config, ConfigSchema, SETTING_SOURCES } from './schema.ts';

/** ConfigErrorCode distinguishes a bad configuration from a request for `--help`. */
export type ConfigErrorCode = 'InvalidConfig' | 'HelpRequested';

/** ConfigError is thrown by loadConfig; `problems` lists every bad value, one line each. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly problems: readonly string[];
  constructor(code: ConfigErrorCode, message: string, problems: readonly string[] = []) {
    super(message);
    this.name = 'ConfigError';
    this.code = code;
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;
type Raw = Record<string, string>;
const SOURCES: ReadonlyArray<[string, SettingSource]> = Object.entries(SETTING_SOURCES);

/**
 * loadConfig merges flags (`--name=value` or `--name value`) over env vars over defaults and validates the
 * result. It throws ConfigError `InvalidConfig` listing every bad or unknown setting, or `HelpRequested`
 * (message = help text) for `--help`/`-h`. It reads nothing but its two arguments.
 */
export function loadConfig(argv: readonly string[], env: Env): Config {
  const problems: string[] = [];
  const flags = fromArgv(argv, problems);
  if (flags === 'help') throw new ConfigError('HelpRequested', helpText());
  const raw: Raw = { ...fromEnv(env), ...flags };
  const namespaceFallback = raw.podNamespace ?? DEFAULT_OPERATOR_NAMESPACE;
  raw.leaderElectionNamespace ??= namespaceFallback;
  raw.operatorNamespace ??= namespaceFallback;
  // A shard's Lease is named after it (other shards look its claims' liveness up by that name).
  if (raw.shardName?.trim()) raw.leaderElectionId ??= raw.shardName.trim();
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(describeIssue(issue.path, issue.message, raw));
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError('InvalidConfig', `invalid configuration:\n  ${problems.join('\n  ')}`, problems);
  }
  return result.data;
}

function fromEnv(env: Env): Raw {
  const raw: Raw = {};
  for (const [key, source] of SOURCES) {
    const value = source.env === undefined ? undefined : env[source.env];
    // An empty env var counts as unset (a Downward API or valueFrom that resolved to nothing).
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw;
}

const BY_FLAG = new Map(
  SOURCES.flatMap(([key, s]) => (s.flag === undefined ? [] : [[s.flag, key] as const])),
);
const BOOLEAN_FLAGS = new Set(['leader-elect']); // the only flag that may be given without a value
const PARSE_OPTIONS: ParseArgsOptionsConfig = {
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(
    [...BY_FLAG.keys()].map((flag) => [flag, { type: BOOLEAN_FLAGS.has(flag) ? 'boolean' : 'string' }]),
  ),
};

/**
 * fromArgv reads the flags with node:util parseArgs, non-strict so that every problem is listed rather than
 * the first. A boolean flag also takes its value from the next argument (`--leader-elect false`); a value that
 * looks like a flag (`--concurrency --log-level warn`) counts as missing, and that flag is read in its own right.
 */
function fromArgv(argv: readonly string[], problems: string[]): Raw | 'help' {
  const { tokens } = parseArgs({
    args: [...argv],
    options: PARSE_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return 'help';
  const raw: Raw = {};
  const used = new Set<number>(); // argv indexes already read (a boolean's value, a group of short flags)
  for (const [i, token] of tokens.entries()) {
    if (used.has(token.index)) continue;
    used.add(token.index);
    const arg = argv[token.index] ?? '';
    if (token.kind !== 'option' || !token.rawName.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}`);
      continue;
    }
    const key = BY_FLAG.get(token.name);
    if (key === undefined) {
      problems.push(`unknown flag --${token.name}`);
      continue;
    }
    const next = tokens[i + 1];
    if (token.value !== undefined && (token.inlineValue || !token.value.startsWith('--'))) {
      raw[key] = token.value;
    } else if (token.value === undefined && BOOLEAN_FLAGS.has(token.name)) {
      if (next?.kind === 'positional') used.add(next.index);
      raw[key] = next?.kind === 'positional' ? next.value : 'true'; // a bare boolean flag means true
    } else {
      problems.push(`--${token.name}: missing value`);
      if (token.value === undefined) continue;
      // parseArgs took the next flag for this one's value: read the rest again from that flag on.
      const rest = fromArgv(argv.slice(token.index + 1), problems);
      return rest === 'help' ? rest : { ...raw, ...rest };
    }
  }
  return raw;
}

function describeIssue(path: readonly PropertyKey[], message: string, raw: Raw): string {
  const key = String(path[0] ?? '');
  const source = SOURCES.find(([k]) => k === key)?.[1];
  const names = source ? [source.flag && `--${source.flag}`, source.env].filter(Boolean).join(' / ') : key;
  const value = raw[key];
  const shown = value === undefined || source?.secret ? '' : ` (got ${JSON.stringify(value)})`;
  return `${names || key}: ${message}${shown}`;
}

/** helpText describes every flag, its env var and its default, for `--help`. */
export function helpText(): string {
  const lines = SOURCES.map(([, s]) => {
    const name = s.flag ? `--${s.flag}` : '(env only)';
    const env = s.env ? ` [${s.env}]` : '';
    const fallback = s.fallback === undefined ? '' : ` (default ${JSON.stringify(s.fallback)})`;
    return `  ${`${name}${env}`.padEnd(58)} ${s.help}${fallback}`;
  });
  return [
    'Usage: rancher-apikey-operator [flags]',
    '',
    'Flags override environment variables. Durations use Go syntax: 500ms, 15s, 10m, 1h30m.',
    '',
    ...lines,
    `${'  --help, -h'.padEnd(60)} show this help`,
  ].join('\n');
}
