import type { IncomingMessage } from 'node:http';
import type { FaultRegistry } from './faults.ts';
import { FaultRuleSchema } from './faults.ts';
import type { KeyStore } from './key-store.ts';
import { inspectKey } from './model.ts';
import type { Reply } from './reply.ts';
import type { RequestCounter } from './request-counter.ts';

/** INSPECTION_PREFIX is where the unauthenticated inspection API lives, apart from the Rancher API. */
export const INSPECTION_PREFIX = '/__emulator/';

/** InspectionDeps are the stores the inspection API reads and resets. */
export interface InspectionDeps {
  keys: KeyStore;
  counter: RequestCounter;
  faults: FaultRegistry;
}

function parseFault(bodyText: string, faults: FaultRegistry): Reply {
  let raw: unknown;
  try {
    raw = JSON.parse(bodyText);
  } catch {
    return { status: 400, body: { error: 'body must be a JSON fault rule' } };
  }
  const parsed = FaultRuleSchema.safeParse(raw);
  if (!parsed.success) return { status: 400, body: { error: parsed.error.issues.map((i) => i.message) } };
  return { status: 201, body: { id: faults.add(parsed.data) } };
}

/** answerInspection serves `/__emulator/{health,keys,requests,requests/reset,faults}`; it never returns secrets or hashes. */
export function answerInspection(req: IncomingMessage, bodyText: string, deps: InspectionDeps): Reply {
  const path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname.slice(INSPECTION_PREFIX.length);
  const method = req.method ?? 'GET';
  const route = `${method} ${path.replace(/\/$/, '')}`;
  if (route === 'GET health') return { status: 200, body: { status: 'ok', keys: deps.keys.size } };
  if (route === 'GET keys') return { status: 200, body: [...deps.keys.all()].map(inspectKey) };
  if (route === 'GET requests') return { status: 200, body: deps.counter.snapshot() };
  if (route === 'POST requests/reset') {
    deps.counter.reset();
    return { status: 200, body: deps.counter.snapshot() };
  }
  if (route === 'GET faults') return { status: 200, body: deps.faults.list() };
  if (route === 'POST faults') return parseFault(bodyText, deps.faults);
  if (route === 'DELETE faults') {
    deps.faults.clear();
    return { status: 200, body: [] };
  }
  const one = /^DELETE faults\/(.+)$/.exec(route);
  if (one?.[1]) {
    return deps.faults.remove(one[1]) ? { status: 200, body: deps.faults.list() } : { status: 404, body: {} };
  }
  return { status: 404, body: { error: `no inspection route ${route}` } };
}
