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
  if (argv.includes('--help') || argv.includes('-h')) throw new ConfigError('HelpRequested', helpText());
  const problems: string[] = [];
  const raw: Raw = { ...fromEnv(env), ...fromArgv(argv, problems) };
  const namespaceFallback = raw.podNamespace ?? DEFAULT_OPERATOR_NAMESPACE;
  raw.leaderElectionNamespace ??= namespaceFallback;
  raw.operatorNamespace ??= namespaceFallback;
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

function fromArgv(argv: readonly string[], problems: string[]): Raw {
  const byFlag = new Map(SOURCES.filter(([, s]) => s.flag !== undefined).map(([key, s]) => [s.flag, key]));
  const raw: Raw = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}`);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    const key = byFlag.get(flag);
    if (key === undefined) {
      problems.push(`unknown flag --${flag}`);
      continue;
    }
    if (eq !== -1) {
      raw[key] = arg.slice(eq + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      raw[key] = next;
      i++;
    } else if (key === 'leaderElect') {
      raw[key] = 'true'; // a bare boolean flag means true
    } else {
      problems.push(`--${flag}: missing value`);
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
