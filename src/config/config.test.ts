import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig, SETTING_SOURCES } from './config.ts';
import type { SettingSource } from './schema.ts';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError && err.code === 'InvalidConfig') return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('every default --help names is the default the operator applies', () => {
    const defaults = loadConfig([], {});
    const sources: [string, SettingSource][] = Object.entries(SETTING_SOURCES);
    const shown = sources.filter(
      // Derived defaults ("POD_NAMESPACE or …", "max(2, concurrency/4)") are described, not literal values.
      ([, s]) => s.fallback !== undefined && s.env !== undefined && !/ or |\(/.test(s.fallback),
    );
    expect(shown.length).toBeGreaterThan(10);
    for (const [key, s] of shown) {
      const explicit = loadConfig([], { [s.env as string]: s.fallback as string });
      expect({ key, value: explicit[key as keyof typeof explicit] }).toEqual({
        key,
        value: defaults[key as keyof typeof defaults],
      });
    }
  });

  it('applies the documented defaults when nothing is set', () => {
    expect(loadConfig([], {})).toEqual({
      logLevel: 'info',
      namespaces: [],
      labelSelector: '',
      concurrency: 32,
      driftCheckIntervalMs: 600_000,
      maxReconcileRate: 10,
      maxReconcileBurst: 100,
      leaderElect: false,
      leaderElectionNamespace: 'rancher-apikey-operator-system',
      leaderElectionId: 'rancher-apikey-operator',
      shardName: '',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      healthPort: 8081,
      metricsPort: 8080,
      rancherTimeoutMs: 15_000,
      credentialsOptIn: 'optional',
      allowedRancherUrls: [],
      reconcileConnections: 'all',
      clusterConnections: true,
      consumerRestarts: false,
      tenantSlowAfterMs: 1_000,
      operatorNamespace: 'rancher-apikey-operator-system',
    });
  });

  it('reads env vars and derives namespaces from POD_NAMESPACE', () => {
    const c = loadConfig([], {
      LOG_LEVEL: 'debug',
      WATCH_NAMESPACES: ' team-a, team-b ,,',
      CONCURRENCY: '16',
      DRIFT_CHECK_INTERVAL: '1h30m',
      LEADER_ELECT: 'true',
      POD_NAME: 'op-7d9f',
      POD_NAMESPACE: 'ops',
    });
    expect(c).toMatchObject({
      logLevel: 'debug',
      namespaces: ['team-a', 'team-b'],
      concurrency: 16,
      driftCheckIntervalMs: 5_400_000,
      leaderElect: true,
      podName: 'op-7d9f',
      podNamespace: 'ops',
      leaderElectionNamespace: 'ops',
      operatorNamespace: 'ops',
    });
  });

  it('lets flags in both forms override env vars', () => {
    const c = loadConfig(['--concurrency=8', '--log-level', 'warn', '--metrics-port', '0'], {
      CONCURRENCY: '2',
      LOG_LEVEL: 'error',
    });
    expect(c).toMatchObject({ concurrency: 8, logLevel: 'warn', metricsPort: 0 });
  });

  it('treats a bare --leader-elect as true and accepts an explicit false', () => {
    expect(loadConfig(['--leader-elect', '--concurrency=1'], { LEADER_ELECT: 'false' }).leaderElect).toBe(
      true,
    );
    expect(loadConfig(['--leader-elect', 'false'], {}).leaderElect).toBe(false);
  });

  it('treats an empty env var as unset', () => {
    expect(loadConfig([], { CONCURRENCY: '', POD_NAMESPACE: '' }).concurrency).toBe(32);
  });

  it('lists every bad value, naming flag, env var and the offending input', () => {
    const problems = problemsOf(() =>
      loadConfig(['--concurrency=0', '--bogus=1', 'stray'], {
        LOG_LEVEL: 'loud',
        DRIFT_CHECK_INTERVAL: '10 minutes',
        WATCH_NAMESPACES: 'ok,Not_Valid',
        HEALTH_PORT: '70000',
      }),
    );
    expect(problems).toHaveLength(7);
    expect(problems).toEqual(
      expect.arrayContaining([
        'unexpected argument "stray"',
        'unknown flag --bogus',
        expect.stringMatching(/^--concurrency \/ CONCURRENCY: .* \(got "0"\)$/),
        expect.stringMatching(/^--log-level \/ LOG_LEVEL: .*\(got "loud"\)$/),
        expect.stringMatching(/^--drift-check-interval \/ DRIFT_CHECK_INTERVAL: must be a duration/),
        expect.stringMatching(/^--namespaces \/ WATCH_NAMESPACES: must be a namespace name/),
        expect.stringMatching(/^--health-port \/ HEALTH_PORT: .*\(got "70000"\)$/),
      ]),
    );
  });

  it('reads the tenant budget: the cap is unset by default (derived from concurrency) and bounded', () => {
    expect(loadConfig([], {}).tenantMaxSlowPasses).toBeUndefined();
    const c = loadConfig(['--tenant-slow-after=2s'], { TENANT_MAX_SLOW_PASSES: '3' });
    expect(c).toMatchObject({ tenantMaxSlowPasses: 3, tenantSlowAfterMs: 2_000 });
    const problems = problemsOf(() =>
      loadConfig([], { TENANT_MAX_SLOW_PASSES: '0', TENANT_SLOW_AFTER: '5ms' }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^--tenant-max-slow-passes \/ TENANT_MAX_SLOW_PASSES: .*\(got "0"\)$/),
      expect.stringMatching(/^--tenant-slow-after \/ TENANT_SLOW_AFTER: must be at least 100ms/),
    ]);
  });

  it('rejects leader election timings that violate client-go constraints', () => {
    const problems = problemsOf(() => loadConfig(['--lease-duration=10s', '--renew-deadline=10s'], {}));
    expect(problems).toEqual([
      expect.stringContaining('--lease-duration / LEASE_DURATION: must be greater than'),
    ]);
    const tight = problemsOf(() => loadConfig(['--renew-deadline=2s', '--retry-period=2s'], {}));
    expect(tight).toEqual([expect.stringContaining('--renew-deadline')]);
  });

  it('names the Lease after SHARD_NAME and refuses a shard without leader election or with another Lease name', () => {
    const c = loadConfig([], { SHARD_NAME: 'shard-a', LEADER_ELECT: 'true' });
    expect([c.shardName, c.leaderElectionId]).toEqual(['shard-a', 'shard-a']);
    expect(loadConfig(['--shard-name=b', '--leader-elect'], {}).leaderElectionId).toBe('b');
    expect(problemsOf(() => loadConfig([], { SHARD_NAME: 'shard-a' }))).toEqual([
      expect.stringContaining('--shard-name / SHARD_NAME: needs leader election'),
    ]);
    const renamed = { SHARD_NAME: 'shard-a', LEADER_ELECT: 'true', LEADER_ELECTION_ID: 'other' };
    expect(problemsOf(() => loadConfig([], renamed))).toEqual([
      expect.stringContaining('--shard-name / SHARD_NAME: must equal the Lease name'),
    ]);
    expect(problemsOf(() => loadConfig([], { SHARD_NAME: 'Shard_A', LEADER_ELECT: 'true' }))).toEqual(
      expect.arrayContaining([expect.stringContaining('must be a DNS subdomain name')]),
    );
  });

  it('reads which connections this instance reconciles, and refuses anything but all, namespaced or none', () => {
    expect(loadConfig([], { RECONCILE_CONNECTIONS: 'none' }).reconcileConnections).toBe('none');
    expect(loadConfig(['--reconcile-connections=namespaced'], {}).reconcileConnections).toBe('namespaced');
    expect(problemsOf(() => loadConfig([], { RECONCILE_CONNECTIONS: 'some' }))).toEqual([
      expect.stringContaining(
        '--reconcile-connections / RECONCILE_CONNECTIONS: must be all, namespaced or none',
      ),
    ]);
  });

  it('turns ClusterRancherConnections off with CLUSTER_CONNECTIONS=false or --cluster-connections=false', () => {
    expect(loadConfig([], { CLUSTER_CONNECTIONS: 'false' }).clusterConnections).toBe(false);
    expect(loadConfig(['--cluster-connections=false'], {}).clusterConnections).toBe(false);
    expect(loadConfig([], { CONSUMER_RESTARTS: 'true' }).consumerRestarts).toBe(true);
    expect(loadConfig(['--consumer-restarts=true'], {}).consumerRestarts).toBe(true);
    expect(problemsOf(() => loadConfig([], { CLUSTER_CONNECTIONS: 'off' }))).toEqual([
      expect.stringContaining('--cluster-connections / CLUSTER_CONNECTIONS'),
    ]);
  });

  it('reads the connection policy settings and refuses URL prefixes with user info or another scheme', () => {
    const c = loadConfig(['--credentials-opt-in=required'], {
      ALLOWED_RANCHER_URLS: ' https://rancher.example.com/ ,http://10.0.0.1:8080/rancher,,',
    });
    expect(c.credentialsOptIn).toBe('required');
    expect(c.allowedRancherUrls).toEqual(['https://rancher.example.com/', 'http://10.0.0.1:8080/rancher']);
    const problems = problemsOf(() =>
      loadConfig([], { CREDENTIALS_OPT_IN: 'always', ALLOWED_RANCHER_URLS: 'https://u:p@r.example.com/' }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--credentials-opt-in \/ CREDENTIALS_OPT_IN: must be optional or required/),
        expect.stringMatching(
          /^--allowed-rancher-urls \/ ALLOWED_RANCHER_URLS: must be http\(s\) URL prefixes/,
        ),
      ]),
    );
    expect(problemsOf(() => loadConfig([], { ALLOWED_RANCHER_URLS: 'ftp://r.example.com/' }))).toHaveLength(
      1,
    );
  });

  it('reports a flag given without a value', () => {
    expect(problemsOf(() => loadConfig(['--concurrency'], {}))).toEqual(['--concurrency: missing value']);
  });

  it('throws HelpRequested with the help text for --help', () => {
    expect(() => loadConfig(['--help'], {})).toThrow(expect.objectContaining({ code: 'HelpRequested' }));
  });

  it('answers -h and a --help after other flags, even bad ones, with the help text', () => {
    for (const argv of [['-h'], ['--concurrency=0', '--bogus', '--help'], ['--label-selector', '--help']]) {
      expect(() => loadConfig(argv, {})).toThrow(
        expect.objectContaining({ code: 'HelpRequested', message: helpText() }),
      );
    }
  });

  it('reports a flag followed by another flag as missing its value and still reads the other flag', () => {
    expect(problemsOf(() => loadConfig(['--concurrency', '--log-level', 'loud'], {}))).toEqual([
      '--concurrency: missing value',
      expect.stringMatching(/^--log-level \/ LOG_LEVEL: .*\(got "loud"\)$/),
    ]);
    expect(problemsOf(() => loadConfig(['--namespaces', '--concurrency', '0'], {}))).toEqual([
      '--namespaces: missing value',
      expect.stringMatching(/^--concurrency \/ CONCURRENCY: .*\(got "0"\)$/),
    ]);
  });

  it('takes values that start with a dash or are empty, and lets the last of a repeated flag win', () => {
    expect(problemsOf(() => loadConfig(['--concurrency', '-1'], {}))).toEqual([
      expect.stringMatching(/^--concurrency \/ CONCURRENCY: .*\(got "-1"\)$/),
    ]);
    expect(loadConfig(['--label-selector=', '--concurrency=3', '--concurrency', '4'], {})).toMatchObject({
      labelSelector: '',
      concurrency: 4,
    });
  });

  it('reads --leader-elect from the next argument or inline, and rejects a word that is not a boolean', () => {
    expect(loadConfig(['--leader-elect=true'], {}).leaderElect).toBe(true);
    expect(loadConfig(['--leader-elect=false'], { LEADER_ELECT: 'true' }).leaderElect).toBe(false);
    expect(loadConfig(['--leader-elect', 'no', '--concurrency', '2'], { LEADER_ELECT: '1' })).toMatchObject({
      leaderElect: false,
      concurrency: 2,
    });
    expect(problemsOf(() => loadConfig(['--leader-elect', 'maybe'], {}))).toEqual([
      expect.stringMatching(/^--leader-elect \/ LEADER_ELECT: must be true or false \(got "maybe"\)$/),
    ]);
  });

  it('refuses short flags, env-only settings given as flags, and anything after --', () => {
    expect(problemsOf(() => loadConfig(['-x', '-abc', '--pod-name', 'p'], {}))).toEqual([
      'unexpected argument "-x"',
      'unexpected argument "-abc"',
      'unknown flag --pod-name',
      'unexpected argument "p"',
    ]);
    expect(problemsOf(() => loadConfig(['--', '--concurrency=3'], {}))).toEqual([
      'unexpected argument "--"',
      'unexpected argument "--concurrency=3"',
    ]);
  });

  it('reads config durations in Go syntax without the ten-year bound of spec durations', () => {
    expect(loadConfig(['--drift-check-interval', ' 1.5h '], {}).driftCheckIntervalMs).toBe(5_400_000);
    expect(loadConfig(['--drift-check-interval=87841h'], {}).driftCheckIntervalMs).toBe(87_841 * 3_600_000);
    expect(problemsOf(() => loadConfig(['--drift-check-interval=250us'], {}))).toEqual([
      expect.stringMatching(/^--drift-check-interval \/ DRIFT_CHECK_INTERVAL: must be at least 1000ms/),
    ]);
  });
});

describe('helpText', () => {
  it('mentions every flag and env var', () => {
    const text = helpText();
    for (const source of Object.values(SETTING_SOURCES)) {
      if ('flag' in source) expect(text).toContain(`--${source.flag}`);
      expect(text).toContain(source.env);
    }
  });

  it('states the real default of the worker count', () => {
    expect(helpText()).toMatch(/--concurrency \[CONCURRENCY\] +parallel reconciles, 1..256 \(default "32"\)/);
  });
});
