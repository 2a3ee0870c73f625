import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../../bench/options.ts';
import { runShardBenchmark, takeShardsFlag } from '../../bench/shards.ts';
import { connect } from '../control-plane/testing.ts';

// `npm run bench -- --shards 2` at 40 keys on the suite's control plane: counts only (each shard claims exactly
// its half, every key converges), never times. `npm run bench -- --shards 2` reports the rates.
describe('shard benchmark smoke run (40 keys)', () => {
  it('reads --shards and leaves every other flag to the benchmark', () => {
    expect(takeShardsFlag(['--keys', '40', '--shards', '2', '--json'])).toEqual({
      shards: 2,
      rest: ['--keys', '40', '--json'],
    });
    expect(takeShardsFlag(['--shards=3']).shards).toBe(3);
    expect(takeShardsFlag(['--keys', '40']).shards).toBeUndefined();
    expect(() => takeShardsFlag(['--shards', '1'])).toThrow(/from 2 to 8/);
  });

  it('bursts on one operator, then on two shards that each claim exactly half of the keys', async () => {
    const opts = { ...defaultOptions(40), latencyKeys: 0, unrelatedSecrets: 0, driftCheckIntervalS: 60 };
    const lines: string[] = [];
    const r = await runShardBenchmark(connect(), opts, 2, (l) => void lines.push(l));
    const context = `${JSON.stringify(r, null, 1)}\n${lines.join('\n')}`;
    expect(r.single.keysPerProcess, context).toEqual([40]);
    expect(r.sharded.keysPerProcess, context).toEqual([20, 20]);
    expect(r.sharded.processes, context).toBe(2);
    expect([r.single.rssMiBPerProcess.length, r.sharded.rssMiBPerProcess.length], context).toEqual([1, 2]);
    for (const b of [r.single, r.sharded]) {
      expect(b.keysPerSecond, context).toBeGreaterThan(0);
      expect(b.machineBusyShare, context).toBeGreaterThan(0);
      expect(b.machineBusyShare, context).toBeLessThanOrEqual(1);
      expect(b.operatorCpuMsPerKey, context).toBeGreaterThan(0);
    }
    expect(r.limit, context).toMatch(/^(the machine|the operator|neither)/);
    // The shards' only extra apiserver write per key is the claim (Events are deduplicated per key and reason).
    expect(r.single.apiserverWritesPerKey, context).toBe(4);
    expect(r.sharded.apiserverWritesPerKey, context).toBe(5);
    // A claimed new ApiKey is still untouched: no marker list per key (one scope list per interval, as unsharded).
    const lists = (c: Record<string, number>) =>
      Object.entries(c)
        .filter(([name]) =>
          name.startsWith('rancher_apikey_operator_rancher_requests_total{action="listKeys"'),
        )
        .reduce((sum, [, n]) => sum + n, 0);
    expect(lists(r.sharded.operatorCounters), context).toBeLessThan(r.keys / 4);
  }, 600_000); // the run first builds the operator (tsc)
});
