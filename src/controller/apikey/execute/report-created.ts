import type { RancherApiKey } from '../../../rancher/index.ts';
import { toKeyView } from '../key-view.ts';
import type { Observation } from '../model.ts';
import type { Observed } from '../observe.ts';
import { plan } from '../plan/plan.ts';
import { readPair } from '../secret-data.ts';
import { type ExecuteDeps, makeContext } from './context.ts';
import { writeStatus } from './status-writer.ts';

/**
 * reportCreated re-plans a pass that just created a key, as if it had been observed, and writes the
 * resulting status at once (after proving the new pair authenticates), so a new ApiKey is Ready in
 * one pass and four apiserver writes. It returns false when the re-plan still wants actions.
 */
export async function reportCreated(
  observed: Observed,
  created: RancherApiKey,
  secretAfter: Observed['liveSecret'],
  deps: ExecuteDeps,
  lastWritten: Map<string, string>,
): Promise<boolean> {
  const r = observed.observation.rancher;
  if (!r.checked || 'error' in r || !observed.client) return false;
  const pair = secretAfter ? readPair(secretAfter) : undefined;
  if (!pair || pair.publicValue !== created.publicValue) return false;
  const verified =
    created.state === 'active'
      ? await observed.client.verifyKey(
          { accessKey: pair.publicValue, secretKey: pair.secretValue },
          observed.scope,
        )
      : undefined;
  const k = toKeyView(created);
  const o: Observation = {
    ...observed.observation,
    hasFinalizer: true,
    secret: { state: 'owned', publicValue: k.publicValue, intact: true, upToDate: true },
    rancher: { ...r, byId: k, bySecret: k, marked: [...r.marked, k], verified },
  };
  const p = plan(o);
  if (p.actions.length > 0 || !p.status) return false;
  await writeStatus(makeContext({ ...observed, observation: o }, deps), deps, lastWritten, p.status);
  return true;
}
