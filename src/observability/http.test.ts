import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, startMetricsServer, startProbeServer } from './http.ts';
import { createMetrics } from './metrics.ts';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function get(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('startProbeServer', () => {
  it('answers 200 ok while live and ready, and 503 with a reason once not ready', async () => {
    let ready = true;
    const s = await startProbeServer({
      port: 0,
      host: '127.0.0.1',
      isLive: () => true,
      isReady: () => ready,
      notReadyReason: () => 'informers not synced',
    });
    servers.push(s);
    expect(s.port).toBeGreaterThan(0);
    expect(await get(s.port, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get(s.port, '/readyz')).toMatchObject({ status: 200, body: 'ok' });
    ready = false;
    expect(await get(s.port, '/readyz?verbose')).toMatchObject({
      status: 503,
      body: 'not ready: informers not synced',
    });
    expect(await get(s.port, '/healthz')).toMatchObject({ status: 200 });
  });

  it('reports 503 when the liveness check fails or throws', async () => {
    let mode: 'fail' | 'throw' = 'fail';
    const s = await startProbeServer({
      port: 0,
      host: '127.0.0.1',
      isLive: () => {
        if (mode === 'throw') throw new Error('boom');
        return false;
      },
      isReady: () => true,
    });
    servers.push(s);
    expect(await get(s.port, '/healthz')).toMatchObject({ status: 503, body: 'not live' });
    mode = 'throw';
    expect(await get(s.port, '/healthz')).toMatchObject({ status: 503, body: 'check failed' });
  });

  it('rejects unknown paths and write methods', async () => {
    const s = await startProbeServer({ port: 0, host: '127.0.0.1', isLive: () => true, isReady: () => true });
    servers.push(s);
    expect((await get(s.port, '/metrics')).status).toBe(404);
    expect((await get(s.port, '/healthz', 'POST')).status).toBe(405);
  });
});

describe('startMetricsServer', () => {
  it('serves the registry in Prometheus text format', async () => {
    const metrics = createMetrics();
    metrics.informerRestarted('secrets');
    const s = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry });
    servers.push(s);
    const res = await get(s.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body).toContain('rancher_apikey_operator_informer_restarts_total{resource="secrets"} 1');
    expect((await get(s.port, '/')).status).toBe(404);
  });

  it('stops accepting connections after close', async () => {
    const s = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: createMetrics().registry });
    await s.close();
    await expect(get(s.port, '/metrics')).rejects.toThrow();
  });
});
