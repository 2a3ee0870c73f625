import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type EmulatorOptions, startEmulator } from './index.ts';

const USAGE =
  'usage: npm run emulator -- [--port N] [--host H] [--transition-delay-ms N] [--auto-purge-ms N|rancher]' +
  ' [--tls-cert FILE --tls-key FILE]';
const SUMMARY_INTERVAL_MS = 5_000;

class UsageError extends Error {
  readonly code = 'EMULATOR_USAGE';
}

function nonNegativeInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

function parseOptions(argv: string[]): EmulatorOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'transition-delay-ms': { type: 'string' },
        'auto-purge-ms': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const port = nonNegativeInt('port', text('port'));
  if (port !== undefined && port > 65535) throw new UsageError('--port must be at most 65535');
  const purge = text('auto-purge-ms');
  const tls = tlsOption(text('tls-cert'), text('tls-key'));
  return {
    port: port ?? 0,
    host: text('host') ?? '127.0.0.1',
    transitionDelayMs: nonNegativeInt('transition-delay-ms', text('transition-delay-ms')),
    autoPurgeDelayMs: purge === 'rancher' ? 'rancher' : nonNegativeInt('auto-purge-ms', purge),
    ...(tls ? { tls } : {}),
  };
}

/** tlsOption reads the PEM serving pair for HTTPS; both files or neither. */
function tlsOption(certFile: string | undefined, keyFile: string | undefined): EmulatorOptions['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined)
    throw new UsageError('--tls-cert and --tls-key go together');
  try {
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } catch {
    throw new UsageError('cannot read --tls-cert or --tls-key');
  }
}

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`emulator: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const emulator = await startEmulator(options);
  // These three lines are the only place a secret is ever printed: they configure the operator and rancher CLI.
  process.stdout.write(
    `RANCHER_URL=${emulator.url}\nRANCHER_ACCESS_KEY=${emulator.admin.accessKey}\nRANCHER_SECRET_KEY=${emulator.admin.secretKey}\n`,
  );
  let last = '';
  const timer = setInterval(() => {
    const { total, reads, writes } = emulator.requests();
    const line = `requests total=${total} reads=${reads} writes=${writes} keys=${emulator.keys().length}`;
    if (line !== last && total > 0) process.stdout.write(`${line}\n`);
    last = line;
  }, SUMMARY_INTERVAL_MS);
  const stop = () => {
    clearInterval(timer);
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
