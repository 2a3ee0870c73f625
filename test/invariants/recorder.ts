import { type KubeConfig, type V1Secret, Watch } from '@kubernetes/client-node';

/** RecordedApiKey is what the recorder remembers of an ApiKey it saw: enough to judge its keys after deletion. */
export interface RecordedApiKey {
  uid: string;
  namespace: string;
  name: string;
  deletionPolicy: string;
  secretName: string;
  keys: { publicValue: string; secretValue: string };
  deleted: boolean;
}

/** SecretVersion is one observed version of a Secret owned by an ApiKey, decoded. */
export interface SecretVersion {
  namespace: string;
  name: string;
  resourceVersion: string;
  ownerUid: string | undefined;
  data: Record<string, string>;
}

/** RunRecorder watches ApiKeys and Secrets in the run's namespaces for the whole run (across apiserver restarts). */
export interface RunRecorder {
  apiKeys: Map<string, RecordedApiKey>;
  /** Every version of every ApiKey-owned Secret, in arrival order. */
  secretVersions: SecretVersion[];
  /** Secrets (ns/name) first seen without an ApiKey owner that later carried one: a takeover. */
  takeovers: string[];
  /** Watch failures (ERROR events, failed starts) by path: each one may have skipped versions. */
  watchErrors: string[];
  /** secretValues returns every secret value the run saw in a Secret (operator-owned or credentials). */
  secretValues(): Set<string>;
  stop(): void;
}

interface Loose {
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    ownerReferences?: { kind?: string; uid?: string; controller?: boolean }[];
  };
  spec?: {
    deletionPolicy?: unknown;
    secret?: { name?: unknown; preset?: unknown; keys?: { publicValue?: unknown; secretValue?: unknown } };
  };
  data?: Record<string, string>;
}

const str = (v: unknown, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);

/** dataKeysFor returns the Secret data keys an ApiKey's spec asks for (same rules as the operator's). */
export function dataKeysFor(spec: Loose['spec']): { publicValue: string; secretValue: string } {
  if (spec?.secret?.preset === 'RancherEnv')
    return { publicValue: 'RANCHER_ACCESS_KEY', secretValue: 'RANCHER_SECRET_KEY' };
  return {
    publicValue: str(spec?.secret?.keys?.publicValue, 'publicValue'),
    secretValue: str(spec?.secret?.keys?.secretValue, 'secretValue'),
  };
}

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );

/** recordApiKey stores (or updates) what the recorder knows of an ApiKey object. */
function recordApiKey(map: Map<string, RecordedApiKey>, obj: Loose, deleted: boolean): void {
  const m = obj.metadata;
  if (!m?.uid || !m.name || !m.namespace) return;
  map.set(m.uid, {
    uid: m.uid,
    namespace: m.namespace,
    name: m.name,
    deletionPolicy: str(obj.spec?.deletionPolicy, 'Purge'),
    secretName: str(obj.spec?.secret?.name, m.name),
    keys: dataKeysFor(obj.spec),
    deleted: deleted || (map.get(m.uid)?.deleted ?? false),
  });
}

/**
 * watchLoop keeps a watch on `path` open until stopped: it relists after every end (timeout, apiserver
 * restart, 410 Gone), so each object's every version the apiserver serves in between reaches `onObject`.
 */
function watchLoop(
  kc: KubeConfig,
  path: string,
  onObject: (phase: string, obj: Loose) => void,
  stopped: () => boolean,
  onError: (message: string) => void,
): () => void {
  const watch = new Watch(kc);
  let controller: AbortController | undefined;
  let resourceVersion: string | undefined;
  const start = async (): Promise<void> => {
    if (stopped()) return;
    try {
      controller = await watch.watch(
        path,
        resourceVersion ? { resourceVersion, allowWatchBookmarks: true } : { allowWatchBookmarks: true },
        (phase, obj: Loose) => {
          if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
          if (phase === 'ERROR') {
            resourceVersion = undefined; // 410 Gone: start over from now
            onError(`${path}: ${JSON.stringify(obj).slice(0, 200)}`);
          } else if (phase !== 'BOOKMARK') onObject(phase, obj);
        },
        () => setTimeout(() => void start(), 300),
      );
    } catch (err) {
      if (!stopped()) onError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
      setTimeout(() => void start(), 500);
    }
  };
  void start();
  return () => controller?.abort();
}

/**
 * startRecorder watches ApiKeys and Secrets in `namespaces` with an admin client: it remembers every
 * ApiKey's deletion policy and data keys, and every version of every Secret, for checkInvariants.
 */
export function startRecorder(kc: KubeConfig, namespaces: string[]): RunRecorder {
  const apiKeys = new Map<string, RecordedApiKey>();
  const secretVersions: SecretVersion[] = [];
  const otherSecretValues = new Set<string>();
  const foreign = new Set<string>();
  const takeovers: string[] = [];
  const watchErrors: string[] = [];
  const onError = (m: string) => void watchErrors.push(m);
  let stopped = false;
  const stops: (() => void)[] = [];
  for (const ns of namespaces) {
    stops.push(
      watchLoop(
        kc,
        `/apis/rancher.keyops.dev/v1alpha1/namespaces/${ns}/apikeys`,
        (phase, obj) => recordApiKey(apiKeys, obj, phase === 'DELETED'),
        () => stopped,
        onError,
      ),
    );
    stops.push(
      watchLoop(
        kc,
        `/api/v1/namespaces/${ns}/secrets`,
        (phase, obj) => {
          if (phase === 'DELETED') return;
          const s = obj as V1Secret & Loose;
          const owner = s.metadata?.ownerReferences?.find((o) => o.kind === 'ApiKey');
          const data = decode(s.data);
          const id = `${s.metadata?.namespace}/${s.metadata?.name}/${s.metadata?.uid}`;
          if (owner && foreign.has(id)) takeovers.push(id);
          if (!owner) {
            foreign.add(id);
            for (const v of Object.values(data)) if (v.length >= 16) otherSecretValues.add(v);
            return;
          }
          secretVersions.push({
            namespace: s.metadata?.namespace ?? ns,
            name: s.metadata?.name ?? '',
            resourceVersion: s.metadata?.resourceVersion ?? '',
            ownerUid: owner.uid,
            data,
          });
        },
        () => stopped,
        onError,
      ),
    );
  }
  return {
    apiKeys,
    secretVersions,
    takeovers,
    watchErrors,
    secretValues() {
      const out = new Set(otherSecretValues);
      for (const v of secretVersions) {
        const keys = apiKeys.get(v.ownerUid ?? '')?.keys ?? dataKeysFor(undefined);
        const sv = v.data[keys.secretValue];
        if (sv) out.add(sv);
      }
      return out;
    },
    stop() {
      stopped = true;
      for (const s of stops) s();
    },
  };
}
