import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../../bench/options.ts';
import { runBenchmark } from '../../bench/run.ts';
import { connect } from '../control-plane/testing.ts';

/** rancherRequestsByAction sums the operator's own Rancher request counter per action. */
function rancherRequestsByAction(counters: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(counters)) {
    const action = /^rancher_apikey_operator_rancher_requests_total\{action="([^"]+)"/.exec(name)?.[1];
    if (action) out[action] = (out[action] ?? 0) + n;
  }
  return out;
}

// The benchmark's phases at 50 keys on the suite's control plane: it asserts counts (writes, calls,
// readiness), never times, so it is stable on a loaded machine. `npm run bench` reports the times.
describe('benchmark smoke run (50 keys)', () => {
  it('converges every key with exactly the expected writes and writes nothing in steady state', async () => {
    const cluster = connect();
    const opts = { ...defaultOptions(50), latencyKeys: 20, unrelatedSecrets: 200, driftCheckIntervalS: 5 };
    const lines: string[] = [];
    const r = await runBenchmark(cluster, opts, (l) => void lines.push(l), { deleteNamespaces: true });
    const context = `${JSON.stringify(r, null, 1)}\n${lines.join('\n')}`;
    expect(r.allReady, context).toBe(true);
    expect(r.keys, context).toBe(50);
    // Exact counts, so that a counter stuck at 0 (or a phase that did nothing) fails: one Rancher create
    // per key and nothing else written; Secret create, ApiKey patch, status patch and Event per key.
    expect(r.rancherWritesPerKey, context).toBe(1);
    expect(r.rancherCallsByRoute['POST /apikeys'], context).toBe(50);
    expect(r.apiserverWritesPerKey, context).toBe(4);
    expect(r.steadyStateApiserverWrites, context).toBe(0);
    expect(r.steadyStateRancherWrites, context).toBe(0);
    expect(r.steadyStateReconcilesPerKey, context).toBeGreaterThanOrEqual(1);
    // Drift checks read the connection's key list (they did look), never a settled key by id.
    expect(r.steadyStateRancherReadsPerKey, context).toBeGreaterThan(0);
    expect(r.steadyStateRancherCallsByRoute['GET /apikeys/:id'] ?? 0, context).toBe(0);
    expect(r.steadyStateRancherRequestsPerKeyPerInterval, context).toBeGreaterThan(0);
    // A new key: one create and one read of the key made with its own pair (it proves the pair and shows the
    // key active), no read by id and no separate verification. A first read that comes too early (401: not
    // active yet) falls back to the transition wait and one verification; a second pass that sees the Secret
    // before the status (the informer delivers the finalizer patch first) looks the key up by access key and
    // verifies again: every verification comes with one of these.
    const byAction = rancherRequestsByAction(r.operatorCountersDuringBurst);
    expect(byAction.createKey, context).toBe(50);
    expect(byAction.readKeyAs, context).toBe(50);
    expect(byAction.getKey ?? 0, context).toBe(0);
    expect(byAction.verifyKey ?? 0, context).toBeLessThanOrEqual(
      (byAction.waitForTransition ?? 0) + (byAction.findKeyByPublicValue ?? 0),
    );
    // Deletion is its own phase over every key (50 + 20 latency keys): deactivate, remove and purge, one write each.
    expect(r.deletionKeys, context).toBe(70);
    expect(r.deletionRancherWritesPerKey, context).toBe(3);
  }, 600_000); // the run first builds the operator (tsc) and measures the dependency floor
});
