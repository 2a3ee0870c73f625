// Measures emulator create throughput: N concurrent keep-alive clients each POSTing keys until the total is reached.
// Usage: node test/emulator/throughput.ts [--keys 10000] [--clients 32] [--transition-delay-ms 20]
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { basicHeader } from './http-helpers.ts';
import { startEmulator } from './index.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '32' },
    'transition-delay-ms': { type: 'string', default: '20' },
  },
});
const total = Number(values.keys);
const clients = Number(values.clients);
const transitionDelayMs = Number(values['transition-delay-ms']);
if (![total, clients, transitionDelayMs].every((n) => Number.isInteger(n) && n >= 0) || clients === 0) {
  process.stderr.write(
    'throughput: --keys, --clients and --transition-delay-ms must be non-negative integers\n',
  );
  process.exit(2);
}

const emulator = await startEmulator({ transitionDelayMs });
const agent = new Agent({ connections: clients, pipelining: 1, keepAliveTimeout: 30_000 });
const authorization = basicHeader(emulator.admin);
let issued = 0;
let failures = 0;

async function client(): Promise<void> {
  while (issued < total) {
    const n = issued++;
    const response = await request(`${emulator.url}/v2-beta/projects/1a5/apikeys`, {
      dispatcher: agent,
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench-${n}`, description: 'throughput' }),
    });
    await response.body.dump();
    if (response.statusCode !== 201) failures++;
  }
}

const memoryBefore = process.memoryUsage().rss;
const started = performance.now();
await Promise.all(Array.from({ length: clients }, () => client()));
const seconds = (performance.now() - started) / 1000;
const listStarted = performance.now();
const list = await request(`${emulator.url}/v2-beta/projects/1a5/apikeys?limit=3000&name_prefix=bench-`, {
  dispatcher: agent,
  headers: { authorization },
});
await list.body.dump();
const listMs = performance.now() - listStarted;
const lookupStarted = performance.now();
const lookup = await request(`${emulator.url}/v2-beta/projects/1a5/apikeys/1c${Math.floor(total / 2)}`, {
  dispatcher: agent,
  headers: { authorization },
});
await lookup.body.dump();
const lookupMs = performance.now() - lookupStarted;
const rssMiB = (process.memoryUsage().rss / 2 ** 20).toFixed(0);

process.stdout.write(
  `creates=${total} clients=${clients} failures=${failures} seconds=${seconds.toFixed(2)} ` +
    `creates_per_second=${Math.round(total / seconds)} list3000_ms=${listMs.toFixed(0)} get_by_id_ms=${lookupMs.toFixed(1)} ` +
    `rss_mib=${rssMiB} rss_growth_mib=${((process.memoryUsage().rss - memoryBefore) / 2 ** 20).toFixed(0)}\n`,
);
await agent.close();
await emulator.close();
