import type { V1Secret } from '@kubernetes/client-node';
import type { ApiKey } from '../../../api/apikey.ts';
import { API_VERSION } from '../../../api/names.ts';
import { KubeError, kubeStatusCode } from '../../../kube/errors.ts';
import type { EventRecorder } from '../../../kube/events.ts';
import type { ResourceWriter } from '../../../kube/resources.ts';
import type { SecretStore } from '../../../kube/secrets.ts';
import type { WorkloadStore } from '../../../kube/workloads.ts';
import type { KeyScope, RancherApiKey, RancherClient } from '../../../rancher/index.ts';
import type { Observation } from '../model.ts';
import type { Observed } from '../observe.ts';
import type { RetirementLists } from '../retirement-list.ts';
import { buildSecret, buildStagingSecret, type KeyPair, stagingNameOf } from '../secret-data.ts';
import type { UnreadSecrets } from '../unread-secrets.ts';

/** CrashPoint names a place where the fault hook may stop the process (tests only). */
export type CrashPoint =
  | 'after-persist-before-create'
  | 'after-create-before-secret'
  | 'after-secret-before-status'
  | 'after-remove-before-purge'
  | 'after-purge-before-finalizer';

/** ExecuteDeps are the only effects that write: Kubernetes objects, Events and (through clients) Rancher. */
export interface ExecuteDeps {
  resources: ResourceWriter;
  secrets: SecretStore;
  events: EventRecorder;
  /** crash is the fault hook: inert unless a test turned a point on. */
  crash(point: CrashPoint): void;
  now(): number;
  /** Told of every Rancher create, so that no shared list read before it ended answers a deletion. */
  retirements?: RetirementLists;
  /** Restarts consumer workloads after a rotation; absent when the operator runs without consumer restarts. */
  workloads?: WorkloadStore;
  /** Told when the create of a Secret the pass did not read (Observed.secretUnread) met an existing one. */
  unreadSecrets?: UnreadSecrets;
}

/** ExecContext is the per-pass state shared by the executor's steps. */
export interface ExecContext {
  observation: Observation;
  apiKey: ApiKey;
  rancher(): { client: RancherClient; scope: KeyScope };
  key(id: string): RancherApiKey;
  /** writeSecret stores a pair (both values, one write), creating or replacing the owned Secret. */
  writeSecret(pair: KeyPair): Promise<void>;
  liveSecret(): V1Secret | undefined;
  cachedSecret: V1Secret | undefined;
  /** writeStaging stores the next pair of a rotation in the staging Secret. */
  writeStaging(pair: KeyPair): Promise<void>;
  liveStaging(): V1Secret | undefined;
  deleteStaging(): Promise<void>;
  event(type: 'Normal' | 'Warning', reason: string, note: string, action: string): Promise<void>;
  crash(point: CrashPoint): void;
  /** creating runs a Rancher create of this ApiKey's key (see RetirementLists.creating). */
  creating<T>(create: () => Promise<T>): Promise<T>;
}

/**
 * UnreadSecretTaken: a brand-new ApiKey's Secret, created without a read (see unread-secrets.ts), found its
 * name taken. Nothing was written; it is not reported as a failure: the next pass, at once, reads the Secret
 * and reports what it finds (SecretConflict for someone else's).
 */
export class UnreadSecretTaken extends Error {
  constructor(secretName: string, cause: unknown) {
    super(`Secret ${secretName} already exists; reading it before doing anything else`, { cause });
    this.name = 'UnreadSecretTaken';
  }
}

/** makeContext binds the observed state to the write helpers for one pass. */
export function makeContext(observed: Observed, deps: ExecuteDeps): ExecContext {
  const { observation } = observed;
  const apiKey = observation.apiKey;
  let live = observed.liveSecret;
  let staging = observed.liveStaging;
  return {
    observation,
    apiKey,
    rancher() {
      if (!observed.client) throw new Error('cannot call Rancher: the connection is not usable');
      return { client: observed.client, scope: observed.scope };
    },
    key(id) {
      const k = observed.keys.get(id);
      if (!k) throw new Error(`cannot act on Rancher key ${id}: it was not observed in this pass`);
      return k;
    },
    async writeSecret(pair) {
      const url = observed.url ?? '';
      const body = buildSecret(apiKey, url, pair, live);
      try {
        live = live ? await deps.secrets.replace(body) : await deps.secrets.create(body);
      } catch (err) {
        // A Secret the cache does not hold (not labelled by the operator) took the name: read it next pass.
        if (observed.secretUnread && isConflict(err)) {
          deps.unreadSecrets?.createConflicted(apiKey.metadata.uid);
          throw new UnreadSecretTaken(observation.secretName, err);
        }
        throw err;
      }
    },
    liveSecret: () => live,
    cachedSecret: observed.cachedSecret,
    async writeStaging(pair) {
      const body = buildStagingSecret(apiKey, pair, staging);
      staging = staging ? await deps.secrets.replace(body) : await deps.secrets.create(body);
    },
    liveStaging: () => staging,
    async deleteStaging() {
      const uid = staging?.metadata?.uid;
      if (uid && apiKey.metadata.namespace) {
        await deps.secrets.delete(apiKey.metadata.namespace, stagingNameOf(apiKey), uid);
      }
      staging = undefined;
    },
    // Events are best effort and never throw: they are sent without holding up the pass.
    event: async (type, reason, note, action) => {
      const regarding = {
        apiVersion: API_VERSION,
        kind: 'ApiKey',
        name: apiKey.metadata.name,
        namespace: apiKey.metadata.namespace,
        uid: apiKey.metadata.uid,
      };
      void deps.events.record(regarding, type, reason, note, action);
    },
    crash: (point) => deps.crash(point),
    creating: (create) =>
      deps.retirements ? deps.retirements.creating(apiKey.metadata.uid, create) : create(),
  };
}

const isConflict = (err: unknown): boolean =>
  err instanceof KubeError ? err.code === 'Conflict' : kubeStatusCode(err) === 409;
