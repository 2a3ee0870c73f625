import {
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
import { Agent } from 'undici';
import { FIELD_MANAGER } from '../api/names.ts';

/** KubeApis bundles the typed API clients with request options that every call must pass. */
export interface KubeApis {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  events: EventsV1Api;
  coordination: CoordinationV1Api;
  /** Options for reads and non-patch writes: shared keep-alive dispatcher, deadline, user agent. */
  options: ConfigurationOptions<ObservableMiddleware>;
  /** Options for JSON merge patches (metadata and status). */
  mergePatch: ConfigurationOptions<ObservableMiddleware>;
  close(): Promise<void>;
}

/**
 * createKubeApis builds the API clients over ONE keep-alive undici Agent (client-node otherwise
 * builds an Agent, and a TLS handshake, per request) with a per-call deadline.
 */
export async function createKubeApis(kc: KubeConfig, opts: { timeoutMs: number }): Promise<KubeApis> {
  const tls: {
    ca?: Buffer | string;
    cert?: Buffer | string;
    key?: Buffer | string;
    rejectUnauthorized?: boolean;
  } = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new Agent({
    connect: {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    },
    connections: 64,
    pipelining: 1,
  });
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setDispatcher(agent);
      ctx.setSignal(AbortSignal.timeout(opts.timeoutMs));
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
    custom: kc.makeApiClient(CustomObjectsApi),
    events: kc.makeApiClient(EventsV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    options,
    mergePatch: setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
    close: () => agent.close(),
  };
}
