import type { ApiKey } from '../../api/apikey.ts';
import type { ConditionInput } from '../../api/conditions.ts';
import type { ConsumersView, RestartConsumersAction } from './consumers/model.ts';

/** KeyView is the part of a Rancher key the planner needs (no secret ever). */
export interface KeyView {
  id: string;
  publicValue: string;
  state: string;
  transitioning: 'yes' | 'no' | 'error';
  name: string | null;
  description: string | null;
  accountId: string;
  /** When Rancher created the key (its own clock, second resolution), if it says. */
  created?: string | null;
  /** The ApiKey uid named by the operator-written marker that ends the description, if any. */
  ownerUid?: string;
}

/** ConnectionView is the resolved connection of an ApiKey, or why it cannot be used. */
export type ConnectionView =
  | { ok: true; url: string; canSupplyValues: boolean; accountId: string }
  | { ok: false; reason: string; message: string; terminal: boolean };

/** SecretView is what observe saw of the output Secret (values stay in the executor, never here). */
export type SecretView =
  | { state: 'absent' }
  | { state: 'foreign'; owner: string }
  | {
      state: 'owned';
      /** publicValue the Secret's pair belongs to (annotation, checked against data). */
      publicValue: string | undefined;
      /** True when the secret value is present and matches the recorded digest. */
      intact: boolean;
      /** True when data keys, labels and annotations are exactly what the spec asks for. */
      upToDate: boolean;
    };

/** StagingView is the rotation staging Secret: the next pair, persisted before its key is promoted. */
export type StagingView =
  | { state: 'absent' }
  | { state: 'foreign' }
  | { state: 'present'; publicValue: string | undefined; intact: boolean };

/** RancherView is what observe learned from Rancher, if it asked. */
export type RancherView =
  | { checked: false }
  | { checked: true; error: { code: string; reason: string; message: string; retryable: boolean } }
  | {
      checked: true;
      /** The key recorded in status.id, if Rancher still has it (any state). */
      byId: KeyView | undefined;
      /**
       * The live (not removed) key whose publicValue the Secret holds, if any. The Secret is tenant-writable:
       * this is a hint, and the planner adopts it only when it is status.id, or carries this ApiKey's marker
       * and the Secret's pair authenticates (`verified`).
       */
      bySecret: KeyView | undefined;
      /** Every key carrying this ApiKey's ownership marker, removed ones included, purged ones excluded. */
      marked: KeyView[];
      /** Keys listed in status.retiring that Rancher still has (purged or gone ones are omitted). */
      retiring: KeyView[];
      /** The live key whose publicValue the rotation staging Secret holds, if any (a hint, like bySecret). */
      byStaging: KeyView | undefined;
      /** Whether the Secret's own pair authenticated against Rancher (undefined: not checked). */
      verified: boolean | undefined;
      /** Whether the staging Secret's pair authenticated (checked only for a staged key carrying this ApiKey's marker). */
      stagingVerified?: boolean | undefined;
    };

/**
 * AdoptView is what observe learned about the key spec.adopt names (never its secret value): the value could not
 * be read from its Secret, or the pair was checked against Rancher (and, only when it authenticates, looked up).
 */
export type AdoptView =
  | { state: 'secretMissing'; message: string }
  | { state: 'checked'; verified: boolean; key: KeyView | undefined };

/** AdoptedRecord is status.adopted: the key taken over through spec.adopt, once the Secret holds its pair. */
export interface AdoptedRecord {
  id: string;
  publicValue: string;
  at: string;
}

/** Observation is everything plan() needs, gathered read-only by observe(). */
export interface Observation {
  now: string;
  apiKey: ApiKey;
  deleting: boolean;
  hasFinalizer: boolean;
  paused: boolean;
  desiredName: string;
  desiredDescription: string;
  /** The description an Orphan deletion leaves behind: the marker replaced by a "released" note. */
  releasedDescription: string;
  secretName: string;
  connection: ConnectionView | undefined;
  secret: SecretView;
  staging: StagingView;
  /** Value of the rotate-requested-at annotation, if set. */
  rotateRequested: string | undefined;
  rancher: RancherView;
  /** The key spec.adopt names, observed while its adoption is pending (see adopt/). */
  adopt?: AdoptView;
  /** The consumers a rotation restarts (spec.rotation.restartConsumers), looked at only while a restart is pending. */
  consumers?: ConsumersView;
}

/** Action is one write the executor performs, in plan order. */
export type Action =
  | { type: 'AddFinalizer' }
  | { type: 'RemoveFinalizer' }
  | { type: 'CreateKey'; supplyValues: boolean }
  | { type: 'StageKey'; supplyValues: boolean }
  | { type: 'PromoteKey'; id: string; replaces: string }
  | { type: 'WriteSecret' }
  | RestartConsumersAction
  | { type: 'DeleteSecret' }
  | { type: 'ActivateKey'; id: string }
  | { type: 'DeactivateKey'; id: string }
  | { type: 'UpdateKey'; id: string; name: string; description: string }
  | { type: 'RemoveKey'; id: string }
  | { type: 'PurgeKey'; id: string }
  /** Take over an existing key (spec.adopt): name, description and marker, then the output Secret. */
  | { type: 'AdoptKey'; id: string }
  /** Every retirement step of these keys in one pass (deletion): deactivate, remove, then purge unless stopAtRemoved. */
  | { type: 'RetireKeys'; ids: string[]; stopAtRemoved: boolean };

/** PlannedEvent is a Kubernetes Event the plan asks for (not tied to an action). */
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Plan is the pure result of plan(): ordered actions, the next status, and when to look again. */
export interface Plan {
  actions: Action[];
  /** Conditions and fields for status; undefined means leave status untouched. */
  status: PlannedStatus | undefined;
  events: PlannedEvent[];
  /** Milliseconds until the next pass; undefined = the drift check interval. */
  requeueAfterMs: number | undefined;
  /** True when the pass failed on a retryable error: requeue with per-item backoff instead. */
  retry: boolean;
}

/** PlannedStatus is the status the planner wants written. */
export interface PlannedStatus {
  conditions: ConditionInput[];
  id?: string;
  publicValue?: string;
  rancherState?: string;
  accountId?: string;
  secretName?: string;
  retiring?: RetiringEntry[];
  lastHandledReconcileAt?: string;
  keyCreatedAt?: string;
  rotation?: RotationStatus;
  adopted?: AdoptedRecord;
}

/** RetiringEntry is an old key on its way out, not before notBefore (the rotation overlap). */
export interface RetiringEntry {
  id: string;
  publicValue: string;
  reason: string;
  notBefore?: string;
}

/** RotationStatus is the rotation part of status. */
export interface RotationStatus {
  nextRotationAt?: string;
  lastRotatedAt?: string;
  lastHandledRotateAt?: string;
  history?: { id: string; publicValue: string; event: string; at: string }[];
}
