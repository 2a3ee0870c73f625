import { z } from 'zod';
import { parseDuration } from '../api/time.ts';
import { LogLevelSchema } from '../observability/logger.ts';

/** DEFAULT_OPERATOR_NAMESPACE is used when neither a flag, an env var nor POD_NAMESPACE names a namespace. */
export const DEFAULT_OPERATOR_NAMESPACE = 'rancher-apikey-operator-system';

// Every raw value is a string (from argv or env); these helpers parse it and state the accepted form.
const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.int().min(min).max(max));

const decimal = (minExclusive: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().gt(minExclusive));

const duration = (minMs: number) =>
  z
    .string()
    .transform((text, ctx) => {
      // No upper bound, as before: a setting is bounded only by the minimum given below.
      const ms = parseDuration(text, Number.POSITIVE_INFINITY);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 15s, 10m or 1h' });
        return z.NEVER;
      }
      return ms;
    })
    .pipe(z.number().min(minMs, `must be at least ${minMs}ms`));

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const namespaceName = z.string().regex(DNS_LABEL, 'must be a namespace name (RFC 1123 label)');
const namespaceList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== ''),
  )
  .pipe(z.array(namespaceName));

// An allowed Rancher URL prefix: http(s), no user info, query or fragment (compared by scheme, host, path).
const urlPrefix = z.string().refine((text) => {
  try {
    const u = new URL(text);
    return (
      (u.protocol === 'http:' || u.protocol === 'https:') &&
      u.username === '' &&
      u.password === '' &&
      u.search === '' &&
      u.hash === ''
    );
  } catch {
    return false;
  }
}, 'must be http(s) URL prefixes such as https://rancher.example.com/, without user info or query');
const urlPrefixList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
  )
  .pipe(z.array(urlPrefix));

/**
 * ConfigSchema parses the raw string settings (after flags, env and derived defaults are merged) into the
 * operator configuration. Durations are milliseconds. Add a setting here and in SETTING_SOURCES.
 */
export const ConfigSchema = z
  .object({
    logLevel: LogLevelSchema.prefault('info'),
    namespaces: namespaceList.prefault(''),
    labelSelector: z.string().trim().prefault(''),
    // 32 from the benchmark (docs/benchmark.md, "Choosing CONCURRENCY"): enough passes in flight to cover
    // Rancher round trips of tens of milliseconds; a connection's pool holds at most 32 Rancher requests anyway.
    concurrency: integer(1, 256).prefault('32'),
    driftCheckIntervalMs: duration(1_000).prefault('10m'),
    maxReconcileRate: decimal(0).prefault('10'),
    maxReconcileBurst: integer(1, 100_000).prefault('100'),
    // Off unless asked for, as controller-runtime's managers: `npm start` against a kubeconfig just works;
    // the Deployment in deploy/ (and the Helm chart) turn it on.
    leaderElect: boolean.prefault('false'),
    leaderElectionNamespace: namespaceName,
    leaderElectionId: z
      .string()
      .regex(/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, 'must be a DNS subdomain name')
      .max(253)
      .prefault('rancher-apikey-operator'),
    // Empty: unsharded (status.shard is neither read nor written). Set: the shard's name, which is also its
    // Lease's name, so that other shards can tell whether its claims are live.
    shardName: z
      .string()
      .trim()
      .regex(/^([a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$/, 'must be a DNS subdomain name')
      .max(253)
      .prefault(''),
    leaseDurationMs: duration(1).prefault('15s'),
    renewDeadlineMs: duration(1).prefault('10s'),
    retryPeriodMs: duration(1).prefault('2s'),
    healthPort: integer(0, 65_535).prefault('8081'),
    metricsPort: integer(0, 65_535).prefault('8080'),
    rancherTimeoutMs: duration(1).prefault('15s'),
    // Unset means max(2, concurrency / 4), derived where the queue is built.
    tenantMaxSlowPasses: integer(1, 256).optional(),
    tenantSlowAfterMs: duration(100).prefault('1s'),
    credentialsOptIn: z
      .string()
      .trim()
      .pipe(z.enum(['optional', 'required'], 'must be optional or required'))
      .prefault('optional'),
    allowedRancherUrls: urlPrefixList.prefault(''),
    // Which connections this instance checks and inventories (status, orphans): in a sharded install one shard
    // takes the ClusterRancherConnections (all), the others only their namespaces' (namespaced) or none.
    reconcileConnections: z
      .string()
      .trim()
      .pipe(z.enum(['all', 'namespaced', 'none'], 'must be all, namespaced or none'))
      .prefault('all'),
    // Off: no ClusterRancherConnection informer (its RBAC may be omitted); ApiKeys naming one are Stalled.
    clusterConnections: boolean.prefault('true'),
    // On: rotations restart consumer workloads that ask for it (spec.rotation.restartConsumers); needs apps RBAC.
    consumerRestarts: boolean.prefault('false'),
    podName: z.string().min(1).optional(),
    podNamespace: namespaceName.optional(),
    operatorNamespace: namespaceName,
  })
  .superRefine((c, ctx) => {
    if (c.shardName !== '' && !c.leaderElect) {
      ctx.addIssue({
        code: 'custom',
        path: ['shardName'],
        message:
          "needs leader election (LEADER_ELECT=true): a shard's claims are live while its Lease is held",
      });
    }
    if (c.shardName !== '' && c.leaderElectionId !== c.shardName) {
      ctx.addIssue({
        code: 'custom',
        path: ['shardName'],
        message: `must equal the Lease name (LEADER_ELECTION_ID ${JSON.stringify(c.leaderElectionId)}): other shards find a shard's Lease by its name; leave LEADER_ELECTION_ID unset`,
      });
    }
    // client-go's constraints: LeaseDuration > RenewDeadline > JitterFactor(1.2) * RetryPeriod.
    if (c.leaseDurationMs <= c.renewDeadlineMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['leaseDurationMs'],
        message: 'must be greater than renew-deadline',
      });
    }
    if (c.renewDeadlineMs <= 1.2 * c.retryPeriodMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['renewDeadlineMs'],
        message: 'must be greater than 1.2 × retry-period',
      });
    }
  });

/** Config is the validated operator configuration. */
export type Config = z.infer<typeof ConfigSchema>;

/** ConfigKey names one setting of Config. */
export type ConfigKey = keyof z.input<typeof ConfigSchema>;

/** SettingSource says where a setting comes from: its flag (without `--`), env var, default text and help. */
export type SettingSource = {
  flag?: string;
  env?: string;
  fallback?: string;
  help: string;
  secret?: boolean;
};

/** SETTING_SOURCES maps every Config key to its flag and env var; flags win over env. */
export const SETTING_SOURCES = {
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', fallback: 'info', help: 'trace|debug|info|warn|error' },
  namespaces: {
    flag: 'namespaces',
    env: 'WATCH_NAMESPACES',
    fallback: '',
    help: 'comma-separated namespaces to watch; empty = all',
  },
  labelSelector: {
    flag: 'label-selector',
    env: 'WATCH_LABEL_SELECTOR',
    fallback: '',
    help: 'only reconcile ApiKeys matching this label selector (sharding)',
  },
  concurrency: {
    flag: 'concurrency',
    env: 'CONCURRENCY',
    fallback: '32',
    help: 'parallel reconciles, 1..256',
  },
  driftCheckIntervalMs: {
    flag: 'drift-check-interval',
    env: 'DRIFT_CHECK_INTERVAL',
    fallback: '10m',
    help: 'how often every ApiKey is re-checked against Rancher',
  },
  maxReconcileRate: {
    flag: 'max-reconcile-rate',
    env: 'MAX_RECONCILE_RATE',
    fallback: '10',
    help: 'retry token bucket rate (per second)',
  },
  maxReconcileBurst: {
    flag: 'max-reconcile-burst',
    env: 'MAX_RECONCILE_BURST',
    fallback: '100',
    help: 'retry token bucket burst',
  },
  reconcileConnections: {
    flag: 'reconcile-connections',
    env: 'RECONCILE_CONNECTIONS',
    fallback: 'all',
    help: 'all|namespaced|none: which connections this instance checks and inventories (sharded installs: all on exactly one shard); ApiKeys use every connection either way',
  },
  clusterConnections: {
    flag: 'cluster-connections',
    env: 'CLUSTER_CONNECTIONS',
    fallback: 'true',
    help: 'serve ClusterRancherConnections (false: not watched, ApiKeys naming one are Stalled ClusterConnectionsDisabled)',
  },
  consumerRestarts: {
    flag: 'consumer-restarts',
    env: 'CONSUMER_RESTARTS',
    fallback: 'false',
    help: 'restart Deployments/StatefulSets/DaemonSets of ApiKeys with spec.rotation.restartConsumers after a rotation (needs the consumer-restarts RBAC)',
  },
  leaderElect: {
    flag: 'leader-elect',
    env: 'LEADER_ELECT',
    fallback: 'false',
    help: 'use Lease leader election (deploy/ turns it on); needed for more than one replica',
  },
  leaderElectionNamespace: {
    flag: 'leader-election-namespace',
    env: 'LEADER_ELECTION_NAMESPACE',
    fallback: `POD_NAMESPACE or ${DEFAULT_OPERATOR_NAMESPACE}`,
    help: 'namespace of the Lease',
  },
  leaderElectionId: {
    flag: 'leader-election-id',
    env: 'LEADER_ELECTION_ID',
    fallback: 'SHARD_NAME or rancher-apikey-operator',
    help: 'name of the Lease',
  },
  shardName: {
    flag: 'shard-name',
    env: 'SHARD_NAME',
    fallback: '',
    help: "this shard's name (and Lease name): claims ApiKeys in status.shard so that shards never both act on one; empty = unsharded",
  },
  leaseDurationMs: { flag: 'lease-duration', env: 'LEASE_DURATION', fallback: '15s', help: 'Lease duration' },
  renewDeadlineMs: {
    flag: 'renew-deadline',
    env: 'RENEW_DEADLINE',
    fallback: '10s',
    help: 'leader renew deadline',
  },
  retryPeriodMs: {
    flag: 'retry-period',
    env: 'RETRY_PERIOD',
    fallback: '2s',
    help: 'leader election retry period',
  },
  healthPort: {
    flag: 'health-port',
    env: 'HEALTH_PORT',
    fallback: '8081',
    help: '/healthz and /readyz port',
  },
  metricsPort: {
    flag: 'metrics-port',
    env: 'METRICS_PORT',
    fallback: '8080',
    help: '/metrics port; 0 = random',
  },
  rancherTimeoutMs: {
    flag: 'rancher-timeout',
    env: 'RANCHER_TIMEOUT',
    fallback: '15s',
    help: 'deadline of one Rancher API request',
  },
  tenantMaxSlowPasses: {
    flag: 'tenant-max-slow-passes',
    env: 'TENANT_MAX_SLOW_PASSES',
    fallback: 'max(2, concurrency/4)',
    help: 'reconciles one namespace may run at once while its Rancher is slow; the rest wait without a worker',
  },
  tenantSlowAfterMs: {
    flag: 'tenant-slow-after',
    env: 'TENANT_SLOW_AFTER',
    fallback: '1s',
    help: 'a reconcile running longer than this marks its namespace slow',
  },
  credentialsOptIn: {
    flag: 'credentials-opt-in',
    env: 'CREDENTIALS_OPT_IN',
    fallback: 'optional',
    help: 'optional|required: whether a connection credentials Secret must be labelled rancher.keyops.dev/credentials=true (or of that type)',
  },
  allowedRancherUrls: {
    flag: 'allowed-rancher-urls',
    env: 'ALLOWED_RANCHER_URLS',
    fallback: '',
    help: 'comma-separated URL prefixes namespaced RancherConnections may use; empty = any',
  },
  podName: { env: 'POD_NAME', help: 'pod name (Downward API); leader identity and Event reporter' },
  podNamespace: { env: 'POD_NAMESPACE', help: 'pod namespace (Downward API)' },
  operatorNamespace: {
    flag: 'operator-namespace',
    env: 'OPERATOR_NAMESPACE',
    fallback: `POD_NAMESPACE or ${DEFAULT_OPERATOR_NAMESPACE}`,
    help: 'namespace the operator runs in',
  },
} satisfies Record<ConfigKey, SettingSource>;
