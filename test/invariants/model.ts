import type { KubeConfig } from '@kubernetes/client-node';
import type { Emulator, InspectedKey } from '../emulator/index.ts';
import type { RunRecorder } from './recorder.ts';

/** Violation is one broken invariant (numbered as in DESIGN.md) with what was seen. */
export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  message: string;
}

/** InvariantInput is everything checkInvariants looks at; only kc, emulator and namespaces are required. */
export interface InvariantInput {
  kc: KubeConfig;
  emulator: Emulator;
  /** The ApiKey namespaces of the run: only their ApiKeys and marker keys are judged. */
  namespaces: string[];
  /** Watches of the whole run (Secret versions, deletion policies of deleted ApiKeys). */
  recorder?: RunRecorder;
  /** Every line the operator process(es) printed, searched for secret values. */
  operatorLogs?: readonly string[];
  /** The operator's /metrics text, searched for secret values. */
  operatorMetrics?: string;
  /** More secret values to search for (e.g. from create responses a test saw). */
  extraSecrets?: Iterable<string>;
  /** Operator writes (Secrets, Events) newer than this outside `namespaces` are violations; default: none checked. */
  since?: Date;
  /** When set, apiserver and Rancher writes are counted over this window and must be zero (steady state). */
  steadyWindowMs?: number;
  /**
   * How long waitForInvariants waits, once everything holds, before the steady window: longer than the
   * operator's periodic checks (DRIFT_CHECK_INTERVAL), so that their one-time reaction to the run's last
   * changes (e.g. a connection's orphan inventory after a Remove/Orphan deletion) is not counted as steady.
   */
  settleMs?: number;
  /**
   * ApiKeys (`namespace/name`) that must end Ready=False with a reason matching the pattern (a terminal
   * answer such as SecretConflict); every other unpaused ApiKey must end Ready=True at its generation.
   */
  expectNotReady?: Record<string, RegExp>;
  /** Extra namespaces where operator Events are expected (the operator namespace, for cluster-scoped objects). */
  eventNamespaces?: string[];
}

/** ApiKeyItem is the loosely typed ApiKey the checker reads. */
export interface ApiKeyItem {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: {
    state?: string;
    deletionPolicy?: string;
    secret?: { name?: string; preset?: string; keys?: { publicValue?: string; secretValue?: string } };
  };
  status?: {
    id?: string;
    publicValue?: string;
    secretName?: string;
    observedGeneration?: number;
    retiring?: unknown[];
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

/** Snapshot is one read of the world that every check works from. */
export interface Snapshot {
  apiKeys: ApiKeyItem[];
  /** Rancher keys carrying a marker of an ApiKey in the run's namespaces. */
  markerKeys: (InspectedKey & { owner: { namespace: string; name: string; uid: string } })[];
  now: number;
}

const MARKER = /\[managed by rancher-apikey-operator: ([^/\s]+)\/(\S+) apikey-uid:([0-9a-f-]{8,64})\]/;

/** markerOwner parses the ownership marker of a Rancher key description. */
export function markerOwner(
  description: string | null,
): { namespace: string; name: string; uid: string } | undefined {
  const m = description ? MARKER.exec(description) : null;
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { namespace: m[1], name: m[2], uid: m[3] };
}

/** isReady tells whether an ApiKey reports Ready=True for its current generation. */
export function isReady(k: ApiKeyItem): boolean {
  const ready = k.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && k.status?.observedGeneration === k.metadata.generation;
}
