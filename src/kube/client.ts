import {
  AppsV1Api,
  type ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import { FIELD_MANAGER } from '../api/names.ts';
import { createKubeHttp, type KubeHttp } from './http.ts';

/** KubeApis bundles the typed API clients with request options that every call must pass. */
export interface KubeApis {
  core: CoreV1Api;
  /** Deployments, StatefulSets and DaemonSets: only for consumer restarts (CONSUMER_RESTARTS=true). */
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  events: EventsV1Api;
  coordination: CoordinationV1Api;
  /** Options for reads and non-patch writes: shared keep-alive dispatcher, deadline, user agent. */
  options: ConfigurationOptions<ObservableMiddleware>;
  /** Options for JSON merge patches (metadata and status). */
  mergePatch: ConfigurationOptions<ObservableMiddleware>;
  /** http sends the per-key requests (Secrets, ApiKey patches, Events) without client-node's per-call costs. */
  http: KubeHttp;
  /** watchDispatcher is the keep-alive pool the informers' watches share (no connection limit, no body deadline). */
  watchDispatcher: Dispatcher;
  close(): Promise<void>;
}

/**
 * createKubeApis builds the API clients over ONE keep-alive undici Agent (client-node otherwise
 * builds an Agent, and a TLS handshake, per request) with header and body deadlines.
 */
export async function createKubeApis(
  kc: KubeConfig,
  opts: { timeoutMs: number; onResponse?: (code: number | 'error', method: string) => void },
): Promise<KubeApis> {
  const tls: {
    ca?: Buffer | string;
    cert?: Buffer | string;
    key?: Buffer | string;
    rejectUnauthorized?: boolean;
  } = {};
  await kc.applyToHTTPSOptions(tls);
  const connect = {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: tls.rejectUnauthorized,
    keepAlive: true,
    keepAliveInitialDelay: 30_000,
  };
  const agent = new Agent({
    connect,
    connections: 64,
    pipelining: 1,
    // Deadlines live on the Agent: a per-request AbortSignal.timeout leaves a timer behind for every call
    // that fires later and builds an exception (measured at ~1.3 s of CPU per 200-key burst).
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  // Watches stream for minutes: their own pool, so they never take the requests' connections; the Watch's
  // inactivity timer (not a body deadline) ends a silent one. One pool instead of client-node's Agent (and
  // TLS connection) per watch request: a watch that ends hands its connection to the next one.
  const watchAgent = new Agent({ connect, pipelining: 1, headersTimeout: opts.timeoutMs, bodyTimeout: 0 });
  const counted = opts.onResponse ? countResponses(agent, opts.onResponse) : agent;
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setDispatcher(counted);
      ctx.setHeaderParam('User-Agent', FIELD_MANAGER);
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
  };
  const options: ConfigurationOptions<ObservableMiddleware> = {
    middleware: [middleware],
    middlewareMergeStrategy: 'append',
  };
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    events: kc.makeApiClient(EventsV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    options,
    mergePatch: setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
    http: createKubeHttp(kc, counted),
    watchDispatcher: watchAgent,
    close: async () => {
      await Promise.all([agent.close(), watchAgent.destroy()]);
    },
  };
}

/** countResponses reports the status (or failure) and method of every apiserver request (rest_client_requests_total). */
function countResponses(agent: Agent, record: (code: number | 'error', method: string) => void): Dispatcher {
  return agent.compose((dispatch) => (options, handler) => {
    const method = options.method ?? 'GET';
    const counting: Dispatcher.DispatchHandler = {
      onRequestStart: (c, ctx) => handler.onRequestStart?.(c, ctx),
      onRequestUpgrade: (c, code, headers, socket) => handler.onRequestUpgrade?.(c, code, headers, socket),
      onResponseStart: (c, code, headers, message) => {
        if (code >= 200) record(code, method);
        return handler.onResponseStart?.(c, code, headers, message);
      },
      onResponseData: (c, chunk) => handler.onResponseData?.(c, chunk),
      onResponseEnd: (c, trailers) => handler.onResponseEnd?.(c, trailers),
      onResponseError: (c, err) => {
        record('error', method);
        return handler.onResponseError?.(c, err);
      },
    };
    return dispatch(options, counting);
  });
}
