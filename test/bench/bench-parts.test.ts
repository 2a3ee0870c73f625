import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { diffWrites, parseWriteCounts, totalWrites } from '../../bench/apiserver-writes.ts';
import { cpuShare, cpuSnapshot } from '../../bench/machine-cpu.ts';
import { parseOptions } from '../../bench/options.ts';
import { percentile } from '../../bench/pool.ts';

const METRICS = `# HELP apiserver_request_total Counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 12
apiserver_request_total{code="200",component="apiserver",dry_run="",group="rancher.keyops.dev",resource="apikeys",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 5
apiserver_request_total{code="409",component="apiserver",dry_run="",group="rancher.keyops.dev",resource="apikeys",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 40
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="GET",version="v1"} 99
apiserver_request_total{code="201",component="apiserver",dry_run="All",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 7
`;

describe('benchmark building blocks', () => {
  it('counts mutating requests on operator resources by verb and subresource, all codes, without leases, reads or dry runs', () => {
    expect(parseWriteCounts(METRICS)).toEqual({ 'POST secrets': 12, 'PATCH apikeys/status': 6 });
  });

  it("subtracts the before-snapshot and the benchmark's own writes, dropping zeros", () => {
    const d = diffWrites(
      { 'POST secrets': 2 },
      { 'POST secrets': 5, 'POST apikeys': 3 },
      { 'POST apikeys': 3 },
    );
    expect(d).toEqual({ 'POST secrets': 3 });
    expect(totalWrites(d)).toBe(3);
  });

  it('charges CPU to the process that spent it, in cores, and sees the machine busy', async () => {
    // A child spinning for 3 s and an idle one, measured for 1 s in between: only the first is charged.
    const spin = spawn(process.execPath, ['-e', 'const end = Date.now() + 3000; while (Date.now() < end);']);
    const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)']);
    await new Promise((r) => setTimeout(r, 300)); // past both start-ups
    const before = await cpuSnapshot({ spin: spin.pid, idle: idle.pid });
    await new Promise((r) => setTimeout(r, 1000));
    const share = cpuShare(before, await cpuSnapshot({ spin: spin.pid, idle: idle.pid }));
    spin.kill();
    idle.kill();
    await Promise.all([once(spin, 'exit'), once(idle, 'exit')]);
    expect(share.coresByProcess.spin).toBeGreaterThan(0.5);
    expect(share.coresByProcess.idle).toBeLessThan(0.2);
    expect(share.machineBusyFraction).toBeGreaterThan(0.5 / share.cores);
    expect(share.cores).toBeGreaterThan(0);
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });

  it('parses the CLI flags with defaults that follow --keys', () => {
    const o = parseOptions(['--keys', '50', '--concurrency', '4', '--json']);
    expect(o).toMatchObject({
      keys: 50,
      concurrency: 4,
      json: true,
      latencyKeys: 50,
      driftCheckIntervalS: 10,
    });
    expect(parseOptions([])).toMatchObject({
      keys: 1000,
      concurrency: 32,
      latencyKeys: 200,
      driftCheckIntervalS: 100,
    });
    expect(() => parseOptions(['--keys', '0'])).toThrow(/--keys must be an integer >= 1/);
  });
});
