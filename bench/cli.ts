// `npm run bench`: starts its own control plane and Rancher emulator, runs the operator as its own process
// with its deploy/ identity, and measures the design's targets (docs/benchmark.md).
import { startControlPlane } from '../test/control-plane/control-plane.ts';
import { parseOptions, usage } from './options.ts';
import { renderTable } from './report.ts';
import { runBenchmark } from './run.ts';
import { renderShardTable, runShardBenchmark, takeShardsFlag } from './shards.ts';

const progress = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const { shards, rest } = takeShardsFlag(process.argv.slice(2));
  const opts = parseOptions(rest);
  if (opts === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const cp = await startControlPlane({ log: progress });
  let stopEnvironment: () => Promise<void> = async () => undefined;
  const onSignal = () => {
    progress('interrupted: stopping the operator, the emulator and the control plane');
    void stopEnvironment()
      .catch(() => undefined)
      .then(() => cp.stop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (shards !== undefined) {
      const r = await runShardBenchmark(cp, opts, shards, progress, (stop) => {
        stopEnvironment = stop;
      });
      process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : renderShardTable(r));
      return 0;
    }
    const result = await runBenchmark(
      { kubeconfigPath: cp.kubeconfigPath, kubectlPath: cp.kubectlPath, stateDir: cp.stateDir },
      opts,
      progress,
      {
        deleteNamespaces: false,
        onEnvironment: (stop) => {
          stopEnvironment = stop;
        },
      },
    );
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(renderTable(result));
    return 0;
  } finally {
    await cp.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
