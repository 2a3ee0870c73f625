import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../../bench/options.ts';
import { runBenchmark } from '../../bench/run.ts';
import { connect } from '../control-plane/testing.ts';

// The benchmark's phases at 50 keys on the suite's control plane: it asserts counts (writes, calls,
// readiness), never times, so it is stable on a loaded machine. `npm run bench` reports the times.
describe('benchmark smoke run (50 keys)', () => {
  it('converges every key within the write budget and writes nothing in steady state', async () => {
    const cluster = connect();
    const opts = { ...defaultOptions(50), latencyKeys: 20, unrelatedSecrets: 200, driftCheckIntervalS: 5 };
    const lines: string[] = [];
    const r = await runBenchmark(cluster, opts, (l) => void lines.push(l), { deleteNamespaces: true });
    const context = `${JSON.stringify(r, null, 1)}\n${lines.join('\n')}`;
    expect(r.allReady, context).toBe(true);
    expect(r.apiserverWritesPerKey, context).toBeLessThanOrEqual(4);
    expect(r.rancherWritesPerKey, context).toBeLessThanOrEqual(1);
    expect(r.steadyStateApiserverWrites, context).toBe(0);
    expect(r.steadyStateRancherWrites, context).toBe(0);
    expect(r.steadyStateReconcilesPerKey, context).toBeGreaterThanOrEqual(1);
    expect(r.steadyStateRancherReadsPerKey, context).toBeGreaterThanOrEqual(1);
    // Deletion is its own phase: deactivate, remove and purge are one write each.
    expect(r.deletionRancherWritesPerKey, context).toBeLessThanOrEqual(3);
    expect(r.deletionKeys).toBe(70);
  }, 300_000);
});
