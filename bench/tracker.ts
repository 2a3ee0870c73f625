import {
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from '@kubernetes/client-node';
import { z } from 'zod';

const GROUP = 'rancher.keyops.dev';
const VERSION = 'v1alpha1';
/** RUN_LABEL marks every ApiKey the benchmark creates with the run's id. */
export const RUN_LABEL = 'bench.keyops.dev/run';
const MANAGED_BY = 'app.kubernetes.io/managed-by=rancher-apikey-operator';

const MetaSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
});
const ApiKeySchema = z.object({
  metadata: MetaSchema,
  status: z
    .object({
      observedGeneration: z.number().optional(),
      id: z.string().optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
    })
    .optional(),
});
const ListSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().optional() }).optional(),
  items: z.array(z.unknown()),
});

/** KeyTimes records, for one ApiKey, when the benchmark saw each milestone (performance.now() ms). */
export interface KeyTimes {
  createdAt?: number;
  readyAt?: number;
  secretAt?: number;
  deletedAt?: number;
  id?: string;
}

/** Tracker watches the run's ApiKeys and the operator's Secrets and timestamps each key's milestones. */
export interface Tracker {
  /** key returns the record of `namespace/name`, creating it. */
  key(ref: string): KeyTimes;
  /** markCreated records the client-side create time (call just before the create request). */
  markCreated(ref: string, at: number): void;
  /** converged counts keys (of `refs`) that are Ready with their Secret seen. */
  converged(refs: readonly string[]): number;
  deleted(refs: readonly string[]): number;
  stop(): Promise<void>;
}

const readyNow = (k: z.infer<typeof ApiKeySchema>): boolean =>
  k.status?.observedGeneration === k.metadata.generation &&
  (k.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function asList(raw: unknown): KubernetesListObject<KubernetesObject> {
  const list = ListSchema.parse(raw);
  return { metadata: list.metadata ?? {}, items: list.items.filter(isObject) };
}

function isObject(v: unknown): v is KubernetesObject {
  return typeof v === 'object' && v !== null;
}

/** keepRunning restarts an informer after an error (client-node's ListWatch stops on non-timeout errors). */
function keepRunning(informer: Informer<KubernetesObject>, stopped: () => boolean): void {
  informer.on('error', () => {
    if (!stopped()) setTimeout(() => void informer.start().catch(() => undefined), 1_000);
  });
}

/** startTracker starts both informers for the run `runId` in `namespaces` and resolves once both listed. */
export async function startTracker(kc: KubeConfig, runId: string, namespaces: string[]): Promise<Tracker> {
  const keys = new Map<string, KeyTimes>();
  const nsSet = new Set(namespaces);
  const key = (ref: string): KeyTimes => {
    let k = keys.get(ref);
    if (!k) {
      k = {};
      keys.set(ref, k);
    }
    return k;
  };
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const selector = `${RUN_LABEL}=${runId}`;
  const apiKeys = makeInformer<KubernetesObject>(
    kc,
    `/apis/${GROUP}/${VERSION}/apikeys`,
    async () =>
      asList(
        await custom.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'apikeys',
          labelSelector: selector,
        }),
      ),
    selector,
  );
  const onApiKey = (raw: KubernetesObject) => {
    const parsed = ApiKeySchema.safeParse(raw);
    if (!parsed.success) return;
    const k = key(`${parsed.data.metadata.namespace}/${parsed.data.metadata.name}`);
    if (parsed.data.status?.id) k.id = parsed.data.status.id;
    if (k.readyAt === undefined && readyNow(parsed.data)) k.readyAt = performance.now();
  };
  apiKeys.on('add', onApiKey);
  apiKeys.on('update', onApiKey);
  apiKeys.on('delete', (raw) => {
    const parsed = ApiKeySchema.safeParse(raw);
    if (parsed.success)
      key(`${parsed.data.metadata.namespace}/${parsed.data.metadata.name}`).deletedAt = performance.now();
  });
  const secrets = makeInformer<KubernetesObject>(
    kc,
    '/api/v1/secrets',
    async () => asList(await core.listSecretForAllNamespaces({ labelSelector: MANAGED_BY })),
    MANAGED_BY,
  );
  const onSecret = (raw: KubernetesObject) => {
    const meta = MetaSchema.safeParse(raw.metadata);
    if (!meta.success || !nsSet.has(meta.data.namespace)) return;
    const k = key(`${meta.data.namespace}/${meta.data.name}`);
    k.secretAt ??= performance.now();
  };
  secrets.on('add', onSecret);
  secrets.on('update', onSecret);
  let stopped = false;
  keepRunning(apiKeys, () => stopped);
  keepRunning(secrets, () => stopped);
  await Promise.all([apiKeys.start(), secrets.start()]);
  return {
    key,
    markCreated(ref, at) {
      key(ref).createdAt = at;
    },
    converged: (refs) =>
      refs.filter((r) => {
        const k = keys.get(r);
        return k?.readyAt !== undefined && k.secretAt !== undefined;
      }).length,
    deleted: (refs) => refs.filter((r) => keys.get(r)?.deletedAt !== undefined).length,
    async stop() {
      stopped = true;
      await Promise.all([apiKeys.stop(), secrets.stop()]);
    },
  };
}
