import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** RunningServer is a listening HTTP server: the port it bound (useful with port 0) and how to stop it. */
export type RunningServer = { port: number; close(): Promise<void> };

/** ProbeServerOptions configures startProbeServer; checks must be cheap and synchronous. */
export type ProbeServerOptions = {
  port: number;
  host?: string;
  isLive(): boolean;
  isReady(): boolean;
  /** Optional explanation appended to a 503 from /readyz (for example "informers not synced"). */
  notReadyReason?(): string;
};

/** MetricsServerOptions configures startMetricsServer. */
export type MetricsServerOptions = { port: number; host?: string; registry: Registry };

/**
 * startProbeServer serves `GET /healthz` and `GET /readyz`: 200 "ok" when the check passes, 503 with a reason
 * when it fails or throws; any other path is 404. Resolves once listening.
 */
export function startProbeServer(options: ProbeServerOptions): Promise<RunningServer> {
  const checks: Record<string, () => { ok: boolean; reason: string }> = {
    '/healthz': () => ({ ok: options.isLive(), reason: 'not live' }),
    '/readyz': () => ({ ok: options.isReady(), reason: readyReason(options) }),
  };
  const server = createServer((req, res) => {
    const check = checks[pathOf(req)];
    if (!check) return send(res, 404, 'not found');
    if (!isReadMethod(req)) return send(res, 405, 'method not allowed');
    try {
      const result = check();
      send(res, result.ok ? 200 : 503, result.ok ? 'ok' : result.reason);
    } catch {
      send(res, 503, 'check failed');
    }
  });
  return listen(server, options.port, options.host);
}

/** startMetricsServer serves the registry in Prometheus text format on `GET /metrics`. Resolves once listening. */
export function startMetricsServer(options: MetricsServerOptions): Promise<RunningServer> {
  const server = createServer((req, res) => {
    if (pathOf(req) !== '/metrics') return send(res, 404, 'not found');
    if (!isReadMethod(req)) return send(res, 405, 'method not allowed');
    options.registry.metrics().then(
      (text) => send(res, 200, text, options.registry.contentType),
      () => send(res, 500, 'cannot collect metrics'),
    );
  });
  return listen(server, options.port, options.host);
}

function readyReason(options: ProbeServerOptions): string {
  const detail = options.notReadyReason?.();
  return detail ? `not ready: ${detail}` : 'not ready';
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function isReadMethod(req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, port: number, host = '0.0.0.0'): Promise<RunningServer> {
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ port: boundPort(server.address()), close: () => closeServer(server) });
    });
  });
}

function boundPort(address: AddressInfo | string | null): number {
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
