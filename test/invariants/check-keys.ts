import type { InvariantInput, Snapshot, Violation } from './model.ts';
import { isReady } from './model.ts';

const PAUSED = 'rancher.keyops.dev/paused';

/**
 * checkKeys proves invariants 1 and 4 on Rancher's side, and that the run converged: no ApiKey is still
 * being deleted (its finalizer done, whatever its age); every unpaused ApiKey answered its current
 * generation, Ready=True with exactly one non-purged marker key (the one in its status) and nothing left
 * retiring, unless `expectNotReady` names it (then Ready=False with that reason, and no duplicate key);
 * keys of deleted ApiKeys end as their deletion policy says.
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
    if (k.metadata.deletionTimestamp) {
      const age = Math.round((snap.now - Date.parse(k.metadata.deletionTimestamp)) / 1000);
      out.push({
        invariant: 4,
        message: `${where} is still being deleted (deletionTimestamp ${age} s ago, finalizers ${JSON.stringify(k.metadata.finalizers)})`,
      });
      continue;
    }
    if (k.metadata.annotations?.[PAUSED] === 'true') continue;
    const keys = (byOwner.get(k.metadata.uid) ?? []).filter((r) => r.state !== 'purged');
    const ids = keys.map((r) => `${r.id}(${r.state})`).join(', ');
    const ready = k.status?.conditions?.find((c) => c.type === 'Ready');
    const seen = `Ready=${ready?.status ?? 'none'} (${ready?.reason ?? 'no reason'}), generation ${k.metadata.generation}, observedGeneration ${k.status?.observedGeneration}`;
    const expected = input.expectNotReady?.[`${k.metadata.namespace}/${k.metadata.name}`];
    if (expected) {
      const answered =
        ready?.status === 'False' &&
        expected.test(ready.reason ?? '') &&
        k.status?.observedGeneration === k.metadata.generation;
      if (!answered)
        out.push({ invariant: 1, message: `${where} should be Ready=False ${expected} but is ${seen}` });
      if (keys.length > 1)
        out.push({ invariant: 1, message: `${where} (not Ready) has duplicate Rancher keys [${ids}]` });
      continue;
    }
    if (!isReady(k)) {
      out.push({ invariant: 1, message: `${where} has not converged: ${seen}; Rancher keys [${ids}]` });
      continue;
    }
    if (keys.length !== 1 || keys[0]?.id !== k.status?.id)
      out.push({
        invariant: 1,
        message: `${where} is Ready with status.id ${k.status?.id} but its non-purged Rancher keys are [${ids}]`,
      });
    if ((k.status?.retiring?.length ?? 0) > 0)
      out.push({
        invariant: 1,
        message: `${where} is Ready but still retiring ${JSON.stringify(k.status?.retiring)}`,
      });
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
