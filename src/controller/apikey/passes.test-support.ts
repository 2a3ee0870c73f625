// One ApiKey's reconcile passes over the in-memory fakes, with each pass's finalizer and status writes played onto
// the cached ApiKey as the apiserver and its watch would. Excluded from the build.
import { apiKeyObject } from '../fakes.test-support.ts';
import { apiKeyWorld } from '../reconcile-fakes.test-support.ts';
import { reconcileApiKey } from './reconcile.ts';

type Obj = {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
};
type ConditionView = { type: string; status: string; reason: string; message: string };

/** passWorld stores ApiKey team-a/ci (apiKeyObject with `over`) and returns the world with a pass runner. */
export function passWorld(over: Parameters<typeof apiKeyObject>[0] = {}) {
  const w = apiKeyWorld();
  w.apiKeys.set('team-a', 'ci', apiKeyObject(over));
  const obj = () => w.apiKeys.get('ci', 'team-a') as Obj;
  /** pass runs one reconcile and returns the status writes it made. */
  async function pass(): Promise<Record<string, unknown>[]> {
    const from = w.journal.writes.length;
    await reconcileApiKey({ namespace: 'team-a', name: 'ci' }, w.deps);
    const o = obj();
    const statuses: Record<string, unknown>[] = [];
    for (const x of w.journal.writes.slice(from)) {
      if (x.op === 'finalizers') o.metadata.finalizers = x.finalizers;
      if (x.op === 'status') {
        statuses.push(x.status);
        const merged: Record<string, unknown> = { ...o.status, ...x.status };
        o.status = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null));
      }
    }
    w.apiKeys.set('team-a', 'ci', o);
    return statuses;
  }
  /** edit changes the spec as a user would: the generation goes up. */
  function edit(spec: Record<string, unknown>): void {
    const o = obj();
    o.spec = { ...o.spec, ...spec };
    o.metadata.generation = Number(o.metadata.generation ?? 1) + 1;
    w.apiKeys.set('team-a', 'ci', o);
  }
  const condition = (type: string) =>
    (obj().status?.conditions as ConditionView[] | undefined)?.find((c) => c.type === type);
  const rancherWrites = () => w.journal.ops().filter((op) => op.startsWith('rancher.'));
  return { ...w, obj, pass, edit, condition, rancherWrites };
}
