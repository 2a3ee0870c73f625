#!/usr/bin/env node
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from './config/config.ts';
import { startMetricsServer, startProbeServer } from './observability/http.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { type CrashPoint, startOperator } from './operator/operator.ts';

// Wiring only: configuration, logger, metrics, probes, the operator, and signal handling.

function crashHook(points: string | undefined): (point: CrashPoint) => void {
  const armed = new Set((points ?? '').split(',').filter(Boolean));
  // Fault hook for crash tests: inert unless RANCHER_APIKEY_OPERATOR_CRASH_AT names the point.
  return (point) => {
    if (armed.has(point)) {
      process.stderr.write(`crash hook: exiting at ${point}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.code === 'HelpRequested' ? 0 : 2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const operator = await startOperator({
    config,
    kubeConfig,
    logger,
    metrics,
    crash: crashHook(process.env.RANCHER_APIKEY_OPERATOR_CRASH_AT),
    onLostLeadership: () => {
      logger.error('leader election lost; exiting so that no reconcile runs without the lease');
      process.exit(1);
    },
  });
  const probes = await startProbeServer({
    port: config.healthPort,
    isLive: () => true,
    isReady: operator.isReady,
    notReadyReason: operator.notReadyReason,
  });
  const metricsServer = await startMetricsServer({ port: config.metricsPort, registry: metrics.registry });
  logger.info(
    { healthPort: probes.port, metricsPort: metricsServer.port },
    'rancher-apikey-operator started',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 25_000);
    await operator.stop().catch((err: unknown) => logger.error({ err }, 'shutdown failed'));
    await Promise.all([probes.close(), metricsServer.close()]);
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `rancher-apikey-operator failed to start: ${err instanceof Error ? err.message : 'unknown error'}\n`,
  );
  process.exit(1);
});
