import type { CoreV1Api, CustomObjectsApi, V1Secret } from '@kubernetes/client-node';

/** eventually polls `check` until it returns a value other than undefined, or fails with the last error. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** ApiKeyObject is the loosely typed ApiKey as read in tests. */
export interface ApiKeyObject {
  metadata: {
    name: string;
    generation?: number;
    finalizers?: string[];
    resourceVersion?: string;
    uid?: string;
  };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    id?: string;
    publicValue?: string;
    rancherState?: string;
    secretName?: string;
    retiring?: { id: string }[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

/** getApiKey reads an ApiKey, or undefined when it does not exist. */
export async function getApiKey(
  custom: CustomObjectsApi,
  ns: string,
  name: string,
): Promise<ApiKeyObject | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({
      group: 'rancher.keyops.dev',
      version: 'v1alpha1',
      plural: 'apikeys',
      namespace: ns,
      name,
    })) as ApiKeyObject;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** condition returns the condition of a type from an ApiKey's status. */
export function condition(k: ApiKeyObject | undefined, type: string) {
  return k?.status?.conditions?.find((c) => c.type === type);
}

/** waitForCondition waits until the ApiKey has condition `type` with `status` (and reason, if given). */
export function waitForCondition(
  custom: CustomObjectsApi,
  ns: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 30_000,
): Promise<ApiKeyObject> {
  return eventually(
    `${ns}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const k = await getApiKey(custom, ns, name);
      const c = condition(k, type);
      const current = k?.status?.observedGeneration === k?.metadata.generation;
      return c?.status === status && (!reason || c.reason === reason) && current ? k : undefined;
    },
    timeoutMs,
  );
}

/** readSecretValues returns the decoded data of a Secret, or undefined if it does not exist. */
export async function readSecretValues(
  core: CoreV1Api,
  ns: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  let s: V1Secret;
  try {
    s = await core.readNamespacedSecret({ namespace: ns, name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
  return Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/** authenticates reports whether Rancher (the emulator) accepts a pair, by calling it as a consumer would. */
export async function authenticates(url: string, accessKey: string, secretKey: string): Promise<boolean> {
  const r = await fetch(`${url}/v1/apikeys?limit=1`, {
    headers: { authorization: `Basic ${Buffer.from(`${accessKey}:${secretKey}`).toString('base64')}` },
  });
  await r.arrayBuffer();
  return r.status === 200;
}
