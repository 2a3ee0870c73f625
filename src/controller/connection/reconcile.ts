import type { ReconcileResult } from '../result.ts';
import { type ConnectionExecuteDeps, executeConnection } from './execute.ts';
import { type ConnectionObserveDeps, observeConnection } from './observe.ts';
import { planConnection, recheckAfterMs } from './plan.ts';
import type { ConnectionId } from './types.ts';

export { NOT_READY_RECHECK_MS } from './plan.ts';

/** ConnectionReconcileDeps are the effects a connection status pass uses. */
export interface ConnectionReconcileDeps extends ConnectionObserveDeps, ConnectionExecuteDeps {
  /** How often a Ready connection is checked again (the drift-check interval). */
  recheckMs: number;
}

/**
 * reconcileConnection checks that a connection's credentials work and reports whose they are, whether they
 * may supply key values and which marked keys belong to no ApiKey: observe (reads), plan (pure), execute
 * (writes, status only when it changed). It never throws: failures come back as 'retry'.
 */
export async function reconcileConnection(
  id: ConnectionId,
  deps: ConnectionReconcileDeps,
): Promise<ReconcileResult> {
  try {
    const observed = await observeConnection(id, deps);
    if (!observed) return { kind: 'done' };
    const plan = planConnection(observed);
    const stillCleaning = await executeConnection(observed, plan, deps);
    return {
      kind: 'done',
      requeueAfterMs: recheckAfterMs(observed.resolved.view.ok, stillCleaning, deps.recheckMs),
    };
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err : new Error('connection check failed') };
  }
}
