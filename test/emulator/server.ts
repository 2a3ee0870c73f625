import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { errorBody, RancherApiError } from './errors.ts';
import type { FaultRegistry } from './faults.ts';
import { answerInspection, INSPECTION_PREFIX, type InspectionDeps } from './inspection.ts';
import { answerRancher, type RancherApiDeps } from './rancher-api.ts';
import type { Reply } from './reply.ts';
import type { RequestCounter } from './request-counter.ts';
import { parseRancherPath } from './route.ts';

const MAX_BODY_BYTES = 1024 * 1024;

/** ServerDeps wire the HTTP server to the Rancher API, the inspection API, the counter and the faults. */
export interface ServerDeps {
  api: RancherApiDeps;
  inspection: InspectionDeps;
  counter: RequestCounter;
  faults: FaultRegistry;
  /** Host:port used when a request carries no Host header. */
  fallbackHost: () => string;
  /** A serving key and certificate (PEM): the emulator speaks HTTPS and emits https:// links. */
  tls?: { key: string; cert: string };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function encode(reply: Reply, escapeSlashes: boolean): Buffer {
  if (reply.raw) return reply.raw.data;
  const text = JSON.stringify(reply.body);
  // Cattle's JacksonMapper escapes forward slashes; JSON parsers undo it transparently.
  return Buffer.from(escapeSlashes ? text.replaceAll('/', '\\/') : text, 'utf8');
}

function writeReply(res: ServerResponse, reply: Reply, escapeSlashes = true): void {
  if (res.destroyed) return;
  const data = encode(reply, escapeSlashes);
  res.writeHead(reply.status, {
    ...reply.headers,
    'Content-Type': reply.raw ? reply.raw.contentType : 'application/json; charset=utf-8',
    'Content-Length': data.length,
  });
  res.end(data);
}

function errorReply(status: number): Reply {
  return { status, body: errorBody(new RancherApiError(status)) };
}

async function serveRancher(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ServerDeps,
  hung: Set<ServerResponse>,
) {
  const method = req.method ?? 'GET';
  const host = req.headers.host ?? deps.fallbackHost();
  const parsed = parseRancherPath(method, req.url ?? '/', host, deps.tls ? 'https' : 'http');
  const route = parsed?.routeName ?? `${method} <other>`;
  deps.counter.record(method, route);
  const fault = deps.faults.take(route);
  const bodyText = await readBody(req);
  if (fault?.kind === 'reset' || fault?.kind === 'outage') return void req.socket.destroy();
  if (fault?.kind === 'hang') {
    hung.add(res);
    res.on('close', () => hung.delete(res));
    return;
  }
  if (fault?.kind === 'status') {
    const reply = errorReply(fault.status ?? 503);
    if (parsed) reply.headers = { 'X-API-Schemas': `${parsed.prefix}/schemas` };
    return writeReply(res, reply);
  }
  if (fault?.kind === 'latency') await sleep(fault.latencyMs ?? 0);
  const reply = parsed ? answerRancher(parsed, req.headers, bodyText, deps.api) : errorReply(404);
  // The change is committed; the client never learns it.
  if (fault?.kind === 'lostResponse') return void req.socket.destroy();
  writeReply(res, reply);
}

async function serve(req: IncomingMessage, res: ServerResponse, deps: ServerDeps, hung: Set<ServerResponse>) {
  try {
    if ((req.url ?? '').startsWith(INSPECTION_PREFIX)) {
      writeReply(res, answerInspection(req, await readBody(req), deps.inspection), false);
    } else {
      await serveRancher(req, res, deps, hung);
    }
  } catch {
    if (!res.headersSent) writeReply(res, errorReply(500));
    else res.destroy();
  }
}

/** createEmulatorServer builds the node:http server; hung requests are released (destroyed) when it closes. */
export function createEmulatorServer(deps: ServerDeps): Server {
  const hung = new Set<ServerResponse>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res, deps, hung);
  };
  const options = { keepAliveTimeout: 65_000 };
  const server: Server = deps.tls
    ? createTlsServer({ ...options, key: deps.tls.key, cert: deps.tls.cert }, handler)
    : createServer(options, handler);
  server.on('close', () => {
    for (const res of hung) res.destroy();
    hung.clear();
  });
  return server;
}
