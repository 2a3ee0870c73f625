import { type FilterField, matchesAll, parseConditions, sortItems } from './filters.ts';
import type { RancherRequest } from './route.ts';

/** DEFAULT_LIMIT and MAX_LIMIT are Cattle's page sizes (ParseCollectionAttributes). */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 3000;

function parseLimit(raw: string | null): number {
  if (raw === null || !/^-?\d+$/.test(raw.trim())) return DEFAULT_LIMIT;
  const n = Number(raw);
  return n <= 0 || n > MAX_LIMIT ? MAX_LIMIT : n;
}

function parseOffset(marker: string | null): number {
  const match = marker === null ? null : /^m(\d+)$/.exec(marker);
  return match?.[1] ? Number(match[1]) : 0;
}

function withQuery(url: string, query: URLSearchParams): string {
  const text = query.toString();
  return text === '' ? url : `${url}?${text}`;
}

function linkWith(req: RancherRequest, drop: string[], add: [string, string][]): string {
  const query = new URLSearchParams(req.query);
  for (const name of drop) query.delete(name);
  for (const [name, value] of add) query.append(name, value);
  return withQuery(req.url, query);
}

/** CollectionSpec says what a list serves: its resource type, filterable fields and how to render one item. */
export interface CollectionSpec<T> {
  resourceType: string;
  fields: readonly FilterField<T>[];
  render: (item: T) => Record<string, unknown>;
}

/** renderCollection filters, sorts and pages candidates into a GDAPI collection (limit+1 fetch sets `partial`/`next`). */
export function renderCollection<T extends { dbId: number }>(
  req: RancherRequest,
  candidates: Iterable<T>,
  spec: CollectionSpec<T>,
): Record<string, unknown> {
  const conditions = parseConditions(req.query, spec.fields);
  const items: T[] = [];
  for (const item of candidates) if (matchesAll(item, conditions, spec.fields)) items.push(item);
  const sortName = req.query.get('sort');
  const sortField = spec.fields.find((f) => f.name === sortName);
  const descending = sortField !== undefined && req.query.get('order')?.toLowerCase() === 'desc';
  sortItems(items, sortField, descending);
  const limit = parseLimit(req.query.get('limit'));
  const offset = parseOffset(req.query.get('marker'));
  const page = items.slice(offset, offset + limit + 1);
  const partial = page.length > limit;
  if (partial) page.pop();
  const filters: Record<string, { modifier: string; value: string }[] | null> = {};
  const sortLinks: Record<string, string> = {};
  for (const field of spec.fields) {
    const own = conditions.filter((c) => c.field === field.name);
    filters[field.name] =
      own.length === 0 ? null : own.map((c) => ({ modifier: c.modifier, value: c.value }));
    sortLinks[field.name] = linkWith(req, ['sort', 'marker'], [['sort', field.name]]);
  }
  const next = partial ? linkWith(req, ['marker'], [['marker', `m${offset + limit}`]]) : null;
  const order = descending ? 'desc' : 'asc';
  const reverse = linkWith(req, ['order', 'marker'], [['order', descending ? 'asc' : 'desc']]);
  return {
    type: 'collection',
    resourceType: spec.resourceType,
    links: { self: req.url },
    createTypes: {},
    actions: {},
    data: page.map((item) => spec.render(item)),
    sortLinks,
    pagination: { first: null, previous: null, next, limit, total: null, partial },
    sort: sortField ? { name: sortField.name, order, reverse } : null,
    filters,
    createDefaults: {},
  };
}
