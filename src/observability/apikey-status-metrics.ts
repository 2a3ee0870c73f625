import { Gauge, type Registry } from 'prom-client';
import { RancherKeyStateSchema } from '../rancher/schemas.ts';

/** The slice of an ApiKey these metrics read: its name and the status the operator wrote. */
export interface ApiKeyStatusSource {
  metadata?: { namespace?: string; name?: string };
  status?: unknown;
}

/** Condition types that become series: the ApiKey's documented conditions, nothing a writer invents. */
export const CONDITION_TYPES = ['Ready', 'Reconciling', 'Stalled', 'Verified', 'Planned'] as const;
const CONDITION_STATUSES = new Set(['True', 'False', 'Unknown']);

/**
 * Values of the `state` label of rancher_apikey_operator_apikeys: the Rancher key states (status.rancherState),
 * `none` for an ApiKey without a Rancher key yet, `other` for anything else (so the label stays bounded).
 */
export const KEY_STATES = ['none', ...RancherKeyStateSchema.options, 'other'] as const;
type KeyState = (typeof KEY_STATES)[number];

interface Read {
  namespace: string;
  name: string;
  state: KeyState;
  conditions: { type: string; status: string }[];
}

function field(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
}

function read(obj: ApiKeyStatusSource): Read | undefined {
  const { namespace, name } = obj.metadata ?? {};
  if (!namespace || !name) return undefined;
  const rancherState = field(obj.status, 'rancherState');
  let state: KeyState = 'none';
  if (typeof rancherState === 'string' && rancherState !== '') {
    const known = RancherKeyStateSchema.safeParse(rancherState.toLowerCase());
    state = known.success ? known.data : 'other';
  }
  const raw = field(obj.status, 'conditions');
  const conditions: Read['conditions'] = [];
  const seen = new Set<string>();
  for (const c of Array.isArray(raw) ? raw : []) {
    const type = field(c, 'type');
    const status = field(c, 'status');
    if (typeof type !== 'string' || typeof status !== 'string') continue;
    if (!(CONDITION_TYPES as readonly string[]).includes(type) || !CONDITION_STATUSES.has(status)) continue;
    if (seen.has(type)) continue; // one series per ApiKey and condition type, even if a writer repeats it
    seen.add(type);
    conditions.push({ type, status });
  }
  return { namespace, name, state, conditions };
}

/**
 * registerApiKeyStatusMetrics adds two gauges computed at scrape time from `list()` (the ApiKey informer
 * cache), so a deleted ApiKey's series disappear with it and nothing is kept between scrapes:
 *
 * - `rancher_apikey_operator_apikey_status_condition{namespace,name,condition,status}` = 1, one series per
 *   ApiKey and condition type, labelled with the condition's current status (as cert-manager's
 *   certmanager_certificate_ready_status, without the zero-valued series for the other statuses);
 * - `rancher_apikey_operator_apikeys{state}`: how many ApiKeys have each Rancher key state (every state is
 *   reported, 0 included).
 *
 * Label values are Kubernetes names and code-defined words; never a secret.
 */
export function registerApiKeyStatusMetrics(
  registry: Registry,
  list: () => readonly ApiKeyStatusSource[],
): void {
  new Gauge({
    name: 'rancher_apikey_operator_apikey_status_condition',
    help: 'Current status of each condition of each ApiKey (1 for the status in the `status` label)',
    labelNames: ['namespace', 'name', 'condition', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const k of list().map(read)) {
        if (k === undefined) continue;
        for (const c of k.conditions)
          this.set({ namespace: k.namespace, name: k.name, condition: c.type, status: c.status }, 1);
      }
    },
  });
  new Gauge({
    name: 'rancher_apikey_operator_apikeys',
    help: 'Number of ApiKey resources, partitioned by the Rancher state of their key (none: no key yet)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = new Map<KeyState, number>(KEY_STATES.map((s) => [s, 0]));
      for (const k of list().map(read))
        if (k !== undefined) counts.set(k.state, (counts.get(k.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
}
