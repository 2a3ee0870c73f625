import type { KeyView, Observation, PlannedStatus } from '../model.ts';
import { plan } from './plan.ts';

/**
 * statusAfterCreate is the status of a pass that has just created `created` and written its pair to the
 * Secret (`verified`: whether that pair authenticated): the status the next pass would plan from observing
 * it, or undefined when that pass would still act. It is pure, so a new ApiKey is Ready in one pass.
 */
export function statusAfterCreate(
  o: Observation,
  created: KeyView,
  verified: boolean | undefined,
): PlannedStatus | undefined {
  const r = o.rancher;
  if (!r.checked || 'error' in r) return undefined;
  const after: Observation = {
    ...o,
    hasFinalizer: true,
    secret: { state: 'owned', publicValue: created.publicValue, intact: true, upToDate: true },
    rancher: { ...r, byId: created, bySecret: created, marked: [...r.marked, created], verified },
  };
  const p = plan(after);
  return p.actions.length > 0 ? undefined : p.status;
}
