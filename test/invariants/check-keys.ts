import type { InvariantInput, Snapshot, Violation } from './model.ts';
import { isReady } from './model.ts';

const PAUSED = 'rancher.keyops.dev/paused';

/**
 * checkKeys proves invariants 1 and 4 on Rancher's side: each live ApiKey has exactly one non-purged
 * marker key (the one in its status) once Ready and never more than one otherwise; keys of deleted
 * ApiKeys end as their deletion policy says; no deleted ApiKey keeps its finalizer past the timeout.
 */
export function checkKeys(input: InvariantInput, snap: Snapshot): Violation[] {
  const out: Violation[] = [];
  const live = new Map(snap.apiKeys.map((k) => [k.metadata.uid, k]));
  const byOwner = new Map<string, Snapshot['markerKeys']>();
  for (const key of snap.markerKeys) {
    const list = byOwner.get(key.owner.uid) ?? [];
    list.push(key);
    byOwner.set(key.owner.uid, list);
  }
  for (const k of snap.apiKeys) {
    const where = `ApiKey ${k.metadata.namespace}/${k.metadata.name}`;
    const stuckFor = k.metadata.deletionTimestamp ? snap.now - Date.parse(k.metadata.deletionTimestamp) : 0;
    if (stuckFor > (input.finalizerTimeoutMs ?? 30_000)) {
      out.push({
        invariant: 4,
        message: `${where} deleted ${Math.round(stuckFor / 1000)} s ago still has finalizers ${JSON.stringify(k.metadata.finalizers)}`,
      });
    }
    if (k.metadata.deletionTimestamp || k.metadata.annotations?.[PAUSED] === 'true') continue;
    const keys = (byOwner.get(k.metadata.uid) ?? []).filter((r) => r.state !== 'purged');
    const ids = keys.map((r) => `${r.id}(${r.state})`).join(', ');
    if (isReady(k)) {
      if (keys.length !== 1 || keys[0]?.id !== k.status?.id)
        out.push({
          invariant: 1,
          message: `${where} is Ready with status.id ${k.status?.id} but its non-purged Rancher keys are [${ids}]`,
        });
    } else if (keys.length > 1) {
      out.push({ invariant: 1, message: `${where} (not Ready) has duplicate Rancher keys [${ids}]` });
    }
  }
  for (const [uid, keys] of byOwner) {
    if (live.has(uid)) continue;
    const policy = input.recorder?.apiKeys.get(uid)?.deletionPolicy;
    for (const r of keys) {
      const ok =
        r.state === 'purged' || policy === 'Orphan' || (policy === 'Remove' && r.state === 'removed');
      if (!ok)
        out.push({
          invariant: policy ? 4 : 1,
          message: `orphan: Rancher key ${r.id} (${r.state}) of deleted ApiKey ${r.owner.namespace}/${r.owner.name} (policy ${policy ?? 'unknown'})`,
        });
    }
  }
  return out;
}
