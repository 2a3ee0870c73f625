import { createTransport, type HttpResponse, type TransportOptions } from './transport.ts';

/** getOnce sends one GET for `<url>/v1/apikeys` over a fresh transport (no retries, 2 s timeouts) and closes it. */
export async function getOnce(url: string, extra: Partial<TransportOptions> = {}): Promise<HttpResponse> {
  const transport = createTransport({
    credentials: { accessKey: 'ak', secretKey: 'sk' },
    userAgent: 'transport-test',
    timeouts: { connectMs: 2_000, headersMs: 2_000, bodyMs: 2_000, deadlineMs: 5_000 },
    retries: 0,
    retryBackoffMs: 1,
    ...extra,
  });
  try {
    return await transport.send({ action: 'list', method: 'GET', url: `${url}/v1/apikeys`, retry: 'never' });
  } finally {
    await transport.close();
  }
}
