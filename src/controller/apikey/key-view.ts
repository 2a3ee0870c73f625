import type { RancherApiKey } from '../../rancher/index.ts';
import { uidFromDescription } from '../marker.ts';
import type { KeyView } from './model.ts';

/** toKeyView keeps the part of a Rancher key the planner needs (never a secret). */
export function toKeyView(k: RancherApiKey): KeyView {
  return {
    id: k.id,
    publicValue: k.publicValue,
    state: k.state,
    transitioning: k.transitioning,
    name: k.name,
    description: k.description,
    accountId: k.accountId,
    created: k.created,
    ownerUid: uidFromDescription(k.description),
  };
}
