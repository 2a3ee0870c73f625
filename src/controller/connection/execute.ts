import type { EventRecorder } from '../../kube/events.ts';
import type { ResourceWriter } from '../../kube/resources.ts';
import type { KeyMetrics } from '../../observability/key-metrics.ts';
import type { ConnectionObservation } from './observe.ts';
import { cleanOrphans } from './orphans.ts';
import type { ConnectionPlan } from './plan.ts';

/** ConnectionExecuteDeps are the effects that write for a connection pass. */
export interface ConnectionExecuteDeps {
  resources: ResourceWriter;
  events: EventRecorder;
  keyMetrics?: KeyMetrics;
}

/**
 * executeConnection performs a connection plan in order: retire orphans (Rancher), set the orphan gauge,
 * write status, record the Warning. It returns how many orphans still need another pass.
 */
export async function executeConnection(
  o: ConnectionObservation,
  p: ConnectionPlan,
  deps: ConnectionExecuteDeps,
): Promise<number> {
  const { kind, namespace, name } = o.id;
  const client = o.resolved.client;
  const stillCleaning = client && p.clean.length > 0 ? await cleanOrphans(client, p.clean) : 0;
  deps.keyMetrics?.setOrphans(p.orphans.label, p.orphans.count);
  if (p.status) {
    const plural = kind === 'RancherConnection' ? 'rancherconnections' : 'clusterrancherconnections';
    await deps.resources.patchStatus(
      plural,
      kind === 'RancherConnection' ? namespace : undefined,
      name,
      p.status,
    );
  }
  if (p.warning) {
    const regarding = {
      apiVersion: 'rancher.keyops.dev/v1alpha1',
      kind,
      name,
      namespace: namespace || undefined,
      uid: o.uid,
    };
    await deps.events.record(regarding, 'Warning', 'OrphanKeysFound', p.warning, 'Inventory');
  }
  return stillCleaning;
}
