import { kubectl } from '../control-plane/testing.ts';
import type { InvariantInput, Violation } from './model.ts';

const OPERATOR = 'rancher-apikey-operator';
/** SECRET_SHAPE matches a Rancher secretValue: 40 characters of `[A-HJ-NP-Za-km-z1-9]` standing alone. */
const SECRET_SHAPE = /(?<![A-Za-z0-9+/=_-])[A-HJ-NP-Za-km-z1-9]{40}(?![A-Za-z0-9+/=_-])/g;

interface Item {
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    creationTimestamp?: string;
    ownerReferences?: { kind?: string }[];
    managedFields?: { manager?: string; time?: string }[];
  };
  reportingComponent?: string;
  reportingController?: string;
  data?: unknown;
  stringData?: unknown;
}

async function getJson(args: string[]): Promise<Item[]> {
  const r = await kubectl(['get', ...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { items?: Item[] }).items ?? [];
}

/** searchable strips Secret data from an object: Secret.data is the one place values may live. */
function searchable(o: Item): Item {
  if (o.kind !== 'Secret') return o;
  const { data, stringData, ...rest } = o;
  // Only the operator's own Secrets are judged: user-applied credentials carry kubectl's last-applied annotation.
  return o.metadata?.ownerReferences?.some((r) => r.kind === 'ApiKey') ? rest : {};
}

function findLeaks(where: string, text: string, secrets: Set<string>): Violation[] {
  const out: Violation[] = [];
  for (const s of secrets) {
    const b64 = Buffer.from(s).toString('base64');
    if (text.includes(s) || text.includes(b64))
      out.push({ invariant: 5, message: `a secret value (${s.slice(0, 4)}…) appears in ${where}` });
  }
  for (const m of text.matchAll(SECRET_SHAPE))
    out.push({
      invariant: 5,
      message: `something shaped like a secret value (${m[0].slice(0, 4)}…) appears in ${where}`,
    });
  return out;
}

/**
 * checkLeaks proves invariant 5: no known secret value (nor anything shaped like one) in operator
 * logs, metrics, Events, ApiKeys and connections (status, annotations) or metadata of owned Secrets.
 */
export async function checkLeaks(input: InvariantInput, secrets: Set<string>): Promise<Violation[]> {
  const out: Violation[] = [];
  if (input.operatorLogs) out.push(...findLeaks('operator logs', input.operatorLogs.join('\n'), secrets));
  if (input.operatorMetrics) out.push(...findLeaks('operator /metrics', input.operatorMetrics, secrets));
  out.push(...findLeaks('Events', JSON.stringify(await getJson(['events', '-A'])), secrets));
  const kinds = 'apikeys,rancherconnections,secrets,configmaps';
  for (const ns of input.namespaces) {
    const items = (await getJson([kinds, '-n', ns])).map(searchable);
    out.push(...findLeaks(`objects of namespace ${ns}`, JSON.stringify(items), secrets));
  }
  out.push(
    ...findLeaks(
      'ClusterRancherConnections',
      JSON.stringify(await getJson(['clusterrancherconnections'])),
      secrets,
    ),
  );
  return out;
}

const byOperatorSince = (o: Item, since: Date): boolean =>
  (o.metadata?.managedFields ?? []).some(
    (f) => f.manager === OPERATOR && f.time !== undefined && Date.parse(f.time) >= since.getTime(),
  );

/**
 * checkWritesOutside proves invariant 6: since `since`, the operator wrote no Secret and no Event
 * outside the run's namespaces (Events about cluster-scoped objects go to `eventNamespaces`).
 */
export async function checkWritesOutside(input: InvariantInput): Promise<Violation[]> {
  const since = input.since;
  if (!since) return [];
  const allowed = new Set([...input.namespaces, ...(input.eventNamespaces ?? [])]);
  const out: Violation[] = [];
  // kubectl hides managedFields unless asked: without them no write could ever be attributed.
  for (const s of await getJson(['secrets', '-A', '--show-managed-fields'])) {
    const ns = s.metadata?.namespace ?? '';
    if (!input.namespaces.includes(ns) && byOperatorSince(s, since))
      out.push({ invariant: 6, message: `the operator wrote Secret ${ns}/${s.metadata?.name}` });
  }
  for (const e of await getJson(['events', '-A'])) {
    const ns = e.metadata?.namespace ?? '';
    const mine = `${e.reportingComponent ?? ''}${e.reportingController ?? ''}`.includes(OPERATOR);
    const created = Date.parse(e.metadata?.creationTimestamp ?? '');
    if (mine && created >= since.getTime() - 1000 && !allowed.has(ns))
      out.push({ invariant: 6, message: `the operator wrote Event ${ns}/${e.metadata?.name}` });
  }
  return out;
}
