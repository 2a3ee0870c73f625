import {
  type ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { Agent } from 'undici';

/** BenchClient is a client-node API pair over one keep-alive connection pool, plus the options every call passes. */
export interface BenchClient {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  options: ConfigurationOptions<ObservableMiddleware>;
  close(): Promise<void>;
}

/**
 * createBenchClient builds API clients that reuse connections (client-node alone builds an Agent, and does a
 * TLS handshake, per request, which would make the benchmark's own client the bottleneck of the baseline).
 */
export async function createBenchClient(kc: KubeConfig): Promise<BenchClient> {
  const tls: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new Agent({
    connect: { ca: tls.ca, cert: tls.cert, key: tls.key, keepAlive: true },
    connections: 64,
    pipelining: 1,
  });
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setDispatcher(agent);
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
  };
  return {
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    options: { middleware: [middleware], middlewareMergeStrategy: 'append' },
    close: () => agent.close(),
  };
}
