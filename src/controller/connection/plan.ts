import { conditionsEqual, mergeConditions } from '../../api/conditions.ts';
import type { ConnectionStatus } from '../../api/connection.ts';
import { stableJson } from '../stable-json.ts';
import type { ConnectionObservation } from './observe.ts';
import { isLiveOrphan, type OrphanKey } from './orphans.ts';

/** NOT_READY_RECHECK_MS is how often a connection that is not Ready is checked again. */
export const NOT_READY_RECHECK_MS = 5_000;

/** CLEANING_RECHECK_MS is how soon a connection still retiring orphans (orphanPolicy Delete) looks again. */
export const CLEANING_RECHECK_MS = 1_000;

/** ConnectionStatusWrite is the whole status a connection pass writes (null clears a field). */
export interface ConnectionStatusWrite {
  observedGeneration: number | undefined;
  conditions: NonNullable<ConnectionStatus['conditions']>;
  accountId: string | null;
  accountKind: string | null;
  canSupplyValues: boolean | null;
  orphans: ConnectionStatus['orphans'] | null;
}

/** ConnectionPlan is what one connection pass writes, decided from its observation alone. */
export interface ConnectionPlan {
  /** Orphans to move one step towards purged (orphanPolicy Delete). */
  clean: OrphanKey[];
  /** The orphan gauge: its label and the live orphans counted. */
  orphans: { label: string; count: number };
  /** The status to write; undefined when it would not change. */
  status: ConnectionStatusWrite | undefined;
  /** An OrphanKeysFound Warning, when the number of live orphans changed to a positive one. */
  warning: string | undefined;
}

/**
 * planConnection decides a connection pass: the Ready condition (whose credentials, and whether they may
 * supply key values), the orphan inventory, and the Warning when new orphans appear. It is pure.
 */
export function planConnection(o: ConnectionObservation): ConnectionPlan {
  const { kind, namespace, name } = o.id;
  const live = (o.found ?? []).filter(isLiveOrphan);
  const next = connectionStatus(o, live);
  const previousCount = o.status.orphans?.count ?? 0;
  const changed = o.found !== undefined && live.length !== previousCount && live.length > 0;
  return {
    clean: o.deletesOrphans && o.found ? o.found : [],
    orphans: { label: `${kind}/${namespace ? `${namespace}/` : ''}${name}`, count: live.length },
    status: sameStatus(o.status, next) ? undefined : next,
    warning: changed ? orphansWarning(live, o.deletesOrphans) : undefined,
  };
}

/** connectionStatus is the status a connection should have after this pass, given its live orphans. */
export function connectionStatus(
  o: ConnectionObservation,
  live: readonly OrphanKey[],
): ConnectionStatusWrite {
  const { view, identity } = o.resolved;
  const ready = view.ok
    ? {
        type: 'Ready',
        status: 'True' as const,
        reason: 'CredentialsValid',
        message:
          `authenticated as Rancher account ${view.accountId} (${identity?.accountKind ?? 'unknown'})` +
          (view.canSupplyValues
            ? '; may supply key values (crash-safe create)'
            : '; cannot supply key values'),
      }
    : { type: 'Ready', status: 'False' as const, reason: view.reason, message: view.message };
  // kstatus (Flux wait) reads only Reconciling and Stalled: a connection that does not work says which it is.
  const why = view.ok
    ? []
    : [{ ...ready, type: view.terminal ? 'Stalled' : 'Reconciling', status: 'True' as const }];
  return {
    observedGeneration: o.generation,
    conditions: mergeConditions(o.status.conditions, [ready, ...why], o.now, o.generation),
    accountId: identity?.accountId ?? null,
    accountKind: identity?.accountKind ?? null,
    canSupplyValues: identity?.canSupplyValues ?? null,
    // Without a client nothing was listed: the last inventory stands.
    orphans: o.found !== undefined ? orphanStatus(live) : (o.status.orphans ?? null),
  };
}

/**
 * recheckAfterMs is when a connection is looked at again: the recheck interval, within seconds while it is
 * not Ready (a credential fix shows at once), within a second while orphans are still being retired.
 */
export function recheckAfterMs(ready: boolean, stillCleaning: number, recheckMs: number): number {
  const recheck = stillCleaning > 0 ? CLEANING_RECHECK_MS : recheckMs;
  return ready ? recheck : Math.min(recheck, NOT_READY_RECHECK_MS);
}

function sameStatus(current: ConnectionStatus, next: ConnectionStatusWrite): boolean {
  return (
    current.observedGeneration === next.observedGeneration &&
    conditionsEqual(current.conditions, next.conditions) &&
    (current.accountId ?? null) === next.accountId &&
    (current.accountKind ?? null) === next.accountKind &&
    (current.canSupplyValues ?? null) === next.canSupplyValues &&
    stableJson(current.orphans ?? null) === stableJson(next.orphans)
  );
}

function orphansWarning(live: readonly OrphanKey[], deletes: boolean): string {
  const list = live
    .slice(0, 5)
    .map((o) => `${o.key.id} (${o.apiKey})`)
    .join(', ');
  const what = deletes ? 'retiring them' : 'set spec.orphanPolicy: Delete to retire them';
  return `${live.length} Rancher key(s) with this operator's marker belong to no ApiKey: ${list}; ${what}`;
}

function orphanStatus(orphans: readonly OrphanKey[]): NonNullable<ConnectionStatus['orphans']> {
  return {
    count: orphans.length,
    keys: orphans.slice(0, 20).map((o) => ({
      id: o.key.id,
      publicValue: o.key.publicValue,
      apiKey: o.apiKey,
      ...(o.environment ? { environment: o.environment } : {}),
    })),
  };
}
