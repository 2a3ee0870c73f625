import { parseRancherId } from './model.ts';

/** FieldType is the GDAPI type of a filterable field; it decides the allowed modifiers. */
export type FieldType = 'string' | 'enum' | 'reference' | 'date' | 'int';

/** FilterField describes one collection filter: its name, type and how to read it from an item. */
export interface FilterField<T> {
  name: string;
  type: FieldType;
  get: (item: T) => string | number | null;
}

const MODIFIERS = [
  'eq',
  'ne',
  'lt',
  'lte',
  'gt',
  'gte',
  'prefix',
  'like',
  'notlike',
  'null',
  'notnull',
] as const;
type Modifier = (typeof MODIFIERS)[number];

/** MODIFIERS_BY_TYPE are Cattle's ConditionType modifiers per field type, with null/notnull for every field. */
export const MODIFIERS_BY_TYPE: Readonly<Record<FieldType, readonly Modifier[]>> = {
  string: ['eq', 'ne', 'prefix', 'like', 'notlike', 'null', 'notnull'],
  enum: ['eq', 'ne', 'null', 'notnull'],
  reference: ['eq', 'ne', 'null', 'notnull'],
  date: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'null', 'notnull'],
  int: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'null', 'notnull'],
};

/** Condition is one parsed `?{field}_{modifier}={value}` filter. */
export interface Condition {
  field: string;
  modifier: Modifier;
  value: string;
}

function isModifier(s: string): s is Modifier {
  return (MODIFIERS as readonly string[]).includes(s);
}

function splitKey(key: string): { name: string; modifier: Modifier } {
  const underscore = key.lastIndexOf('_');
  const suffix = key.slice(underscore + 1);
  if (underscore > 0 && isModifier(suffix)) return { name: key.slice(0, underscore), modifier: suffix };
  return { name: key, modifier: 'eq' };
}

/** parseConditions reads filters from a query; unknown fields and modifiers a field does not allow are ignored. */
export function parseConditions<T>(query: URLSearchParams, fields: readonly FilterField<T>[]): Condition[] {
  const conditions: Condition[] = [];
  for (const [key, value] of query) {
    const { name, modifier } = splitKey(key);
    const field = fields.find((f) => f.name === name);
    if (field && MODIFIERS_BY_TYPE[field.type].includes(modifier))
      conditions.push({ field: name, modifier, value });
  }
  return conditions;
}

function likeRegex(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}

function toComparable(type: FieldType, raw: string | number): number | string | undefined {
  if (type === 'reference') return typeof raw === 'number' ? raw : parseRancherId(raw);
  if (type === 'date' || type === 'int') {
    if (typeof raw === 'number') return raw;
    const n = /^-?\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    return Number.isNaN(n) ? undefined : n;
  }
  return String(raw).toLowerCase();
}

function compareTo(type: FieldType, actual: string | number, wanted: string): number | undefined {
  const a = toComparable(type, actual);
  const b = toComparable(type, wanted);
  if (a === undefined || b === undefined) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

function matchOne<T>(item: T, field: FilterField<T>, c: Condition): boolean {
  const actual = field.get(item);
  if (c.modifier === 'null') return actual === null;
  if (c.modifier === 'notnull') return actual !== null;
  // SQL semantics: any comparison with NULL is not true.
  if (actual === null) return false;
  if (c.modifier === 'prefix') return String(actual).toLowerCase().startsWith(c.value.toLowerCase());
  if (c.modifier === 'like') return likeRegex(c.value).test(String(actual));
  if (c.modifier === 'notlike') return !likeRegex(c.value).test(String(actual));
  const order = compareTo(field.type, actual, c.value);
  if (order === undefined) return c.modifier === 'ne';
  const expected: Record<string, boolean> = {
    eq: order === 0,
    ne: order !== 0,
    lt: order < 0,
    lte: order <= 0,
    gt: order > 0,
    gte: order >= 0,
  };
  return expected[c.modifier] ?? false;
}

/** matchesAll tells whether an item satisfies every condition (repeated parameters are ANDed). */
export function matchesAll<T>(
  item: T,
  conditions: readonly Condition[],
  fields: readonly FilterField<T>[],
): boolean {
  for (const c of conditions) {
    const field = fields.find((f) => f.name === c.field);
    if (field && !matchOne(item, field, c)) return false;
  }
  return true;
}

/** sortItems orders by a filterable field (nulls first, case-insensitive) then by id ascending, like Cattle's addSort. */
export function sortItems<T extends { dbId: number }>(
  items: T[],
  field: FilterField<T> | undefined,
  descending: boolean,
): T[] {
  if (!field) return items.sort((a, b) => a.dbId - b.dbId);
  const key = (item: T) => {
    const v = field.get(item);
    return typeof v === 'string' ? v.toLowerCase() : v;
  };
  return items.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    let order = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
    if (descending) order = -order;
    return order !== 0 ? order : a.dbId - b.dbId;
  });
}
