import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS, MANAGED_BY_VALUE } from '../../../src/api/names.ts';
import { apply, setUpConnection } from '../../invariants/world-helpers.ts';
import { apiKeyManifest } from '../support/manifests.ts';
import { authenticates, readSecretValues, waitForCondition } from '../support/wait.ts';
import { startWorld, type World } from '../support/world.ts';

// Tenant isolation, attack 4 of issue 11: anyone who may create Secrets can give them the managed-by label the
// operator's Secret informer selects on. Their data must not enter the operator's memory.

const MiB = 1024 * 1024;
const BULK = 100;
const BULK_BYTES = Math.round(0.9 * MiB);

let world: World;
const teamA = () => world.namespaces[0] ?? '';
const teamB = () => world.namespaces[1] ?? '';

beforeAll(async () => {
  world = await startWorld({ namespaceCount: 2 });
  await setUpConnection(teamA(), world.emulator);
});
afterAll(async () => {
  await world?.stop();
});

/** rssMiB reads the operator process's resident set size from /proc. */
function rssMiB(): number {
  const status = readFileSync(`/proc/${world.operator.pid}/status`, 'utf8');
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1]);
  if (!Number.isFinite(kb)) throw new Error('no VmRSS in /proc status');
  return kb / 1024;
}

/** heapMiB reads the operator's V8 heap in use from its /metrics (live objects plus garbage not yet collected). */
async function heapMiB(): Promise<number> {
  const text = await world.operator.metrics();
  const bytes = Number(text.match(/^nodejs_heap_size_used_bytes (\S+)$/m)?.[1]);
  return bytes / MiB;
}

/**
 * settled samples RSS and heap every 500 ms until RSS has moved less than 2 MiB over 3 s (at least minWaitMs).
 * The heap figure is the lowest of the last samples: garbage not yet collected is not memory the cache holds.
 */
async function settled(minWaitMs: number): Promise<{ rss: number; peak: number; heap: number }> {
  const started = Date.now();
  const rss: number[] = [];
  const heap: number[] = [];
  for (;;) {
    rss.push(rssMiB());
    heap.push(await heapMiB());
    const recent = rss.slice(-7);
    const stable = recent.length >= 7 && Math.max(...recent) - Math.min(...recent) < 2;
    if ((Date.now() - started >= minWaitMs && stable) || Date.now() - started > 90_000) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { rss: rss.at(-1) ?? 0, peak: Math.max(...rss), heap: Math.min(...heap.slice(-10)) };
}

describe('the Secret cache holds no tenant-controlled bulk', () => {
  it('100 labelled Secrets of 0.9 MiB in team-b barely move RSS; team-a still gets a working key', async () => {
    const before = await settled(3_000);
    const filler = Buffer.alloc(BULK_BYTES, 'x').toString('base64');
    for (let batch = 0; batch < BULK; batch += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          world.core.createNamespacedSecret({
            namespace: teamB(),
            body: {
              metadata: {
                name: `bulk-${batch + i}`,
                labels: { [LABELS.managedBy]: MANAGED_BY_VALUE },
                annotations: { 'rancher.keyops.dev/public-value': 'AAAAAAAAAAAAAAAAAAAA' },
              },
              data: { blob: filler },
            },
          }),
        ),
      );
    }
    const after = await settled(10_000);
    const growth = after.rss - before.rss;
    const report =
      `operator RSS ${before.rss.toFixed(1)} MiB -> ${after.rss.toFixed(1)} MiB ` +
      `(peak ${after.peak.toFixed(1)} MiB) after ${BULK} Secrets of ${(BULK_BYTES / MiB).toFixed(1)} MiB ` +
      `(${((BULK * BULK_BYTES) / MiB).toFixed(0)} MiB of data); heap ${before.heap.toFixed(1)} -> ${after.heap.toFixed(1)} MiB`;
    process.stderr.write(`${report}\n`);
    // What the cache holds: the live heap barely moves (it grew by about 160 MiB when the data was cached).
    expect(after.heap - before.heap, report).toBeLessThan(30);
    // RSS also carries the parse buffers of the watch events until the allocator returns them: it stays
    // below the size of the data (it grew by about 300 MiB when the data was cached).
    expect(growth, report).toBeLessThan((BULK * BULK_BYTES) / MiB);

    await apply(apiKeyManifest(teamA(), 'victim', {}));
    const ready = await waitForCondition(world.custom, teamA(), 'victim', 'Ready', 'True');
    const values = await readSecretValues(world.core, teamA(), 'victim');
    expect(values?.publicValue).toBe(ready.status?.publicValue);
    expect(
      await authenticates(world.emulator.url, values?.publicValue ?? '', values?.secretValue ?? ''),
    ).toBe(true);
    expect(world.operator.lines.join('\n')).not.toContain(filler.slice(0, 64));
  });
});
