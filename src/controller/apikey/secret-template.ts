/**
 * The Secret template language (spec.secret.template): literal text with `{{ ... }}` actions. An action
 * concatenates operands, fields of this ApiKey's own key (`.publicValue`, `.secretValue`, `.url`,
 * `.environment`) or double-quoted string literals, and pipes the result through functions (`base64`,
 * `json`, `urlquery`). There is nothing else: no variables, loops, conditionals, lookups or calls out, so a
 * template can read only the fields passed to it, and its output is bounded by its own length.
 */

/** TEMPLATE_FIELDS are the fields a template may read, with the most UTF-8 bytes each value may hold. */
export const TEMPLATE_FIELDS = {
  publicValue: 256,
  secretValue: 256,
  url: 2048,
  environment: 64,
} as const;

/** TemplateField names one readable field. */
export type TemplateField = keyof typeof TEMPLATE_FIELDS;

/** TemplateValues are the values a template renders from: this ApiKey's pair and connection, nothing else. */
export type TemplateValues = Record<TemplateField, string>;

/** TEMPLATE_LIMITS bound every template: enforced in the CRD (entries, text) and when checked and rendered. */
export const TEMPLATE_LIMITS = {
  maxEntries: 16,
  maxTextLength: 4096,
  maxEntryBytes: 16384,
  maxTotalBytes: 32768,
} as const;

const FUNCTIONS = {
  base64: (s: string) => Buffer.from(s, 'utf8').toString('base64'),
  json: (s: string) => JSON.stringify(s),
  urlquery: (s: string) => encodeURIComponent(s),
} as const;

type FunctionName = keyof typeof FUNCTIONS;

// The longest output (UTF-8 bytes) of each function for an input of n UTF-8 bytes.
const GROWTH: Record<FunctionName, (n: number) => number> = {
  base64: (n) => Math.ceil(n / 3) * 4,
  json: (n) => n * 6 + 2,
  urlquery: (n) => n * 3,
};

type Operand = { field: TemplateField } | { literal: string };
type Part = { text: string } | { operands: Operand[]; pipes: FunctionName[] };

/** TemplateError is a template that cannot be used; its message names the entry and the problem, never a value. */
export class TemplateError extends Error {
  readonly code = 'InvalidSecretTemplate';
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const isField = (name: string): name is TemplateField => Object.hasOwn(TEMPLATE_FIELDS, name);
const isFunction = (name: string): name is FunctionName => Object.hasOwn(FUNCTIONS, name);
const FIELD_LIST = Object.keys(TEMPLATE_FIELDS)
  .map((f) => `.${f}`)
  .join(', ');
const FUNCTION_LIST = Object.keys(FUNCTIONS).join(', ');

// Tokens of an action: a field, a quoted literal (\" \\ \n \t escapes), a pipe, or a bare word (a function).
const TOKEN = /\s*(?:(\.[A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)"|(\|)|([A-Za-z0-9_]+)|(\S))/gy;

function unquote(body: string): string {
  return body.replace(/\\(.)/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === 't') return '\t';
    if (c === '"' || c === '\\') return c;
    throw new TemplateError(`unknown escape \\${c} in a string literal (allowed: \\" \\\\ \\n \\t)`);
  });
}

function parseAction(src: string): Part {
  const operands: Operand[] = [];
  const pipes: FunctionName[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(src); m !== null && m[0].trim() !== ''; m = TOKEN.exec(src)) {
    const [, field, literal, pipe, word, other] = m;
    if (other !== undefined) throw new TemplateError(`unexpected "${other}" in {{${src}}}`);
    if (field !== undefined) {
      const name = field.slice(1);
      if (!isField(name)) throw new TemplateError(`unknown field ${field} (allowed: ${FIELD_LIST})`);
      if (pipes.length > 0) throw new TemplateError(`field ${field} after a function in {{${src}}}`);
      operands.push({ field: name });
    } else if (literal !== undefined) {
      if (pipes.length > 0) throw new TemplateError(`a string literal after a function in {{${src}}}`);
      operands.push({ literal: unquote(literal) });
    } else if (pipe !== undefined) {
      continue;
    } else if (word !== undefined) {
      if (!isFunction(word)) throw new TemplateError(`unknown function ${word} (allowed: ${FUNCTION_LIST})`);
      if (operands.length === 0) throw new TemplateError(`function ${word} has nothing to apply to`);
      pipes.push(word);
    }
    if (TOKEN.lastIndex >= src.length) break;
  }
  if (operands.length === 0) throw new TemplateError('empty action {{ }}');
  return { operands, pipes };
}

/** parseTemplate splits a template into literal text and actions, or throws a TemplateError. */
export function parseTemplate(text: string): Part[] {
  if (text.length > TEMPLATE_LIMITS.maxTextLength)
    throw new TemplateError(`longer than ${TEMPLATE_LIMITS.maxTextLength} characters`);
  const parts: Part[] = [];
  let rest = text;
  for (let open = rest.indexOf('{{'); open >= 0; open = rest.indexOf('{{')) {
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError('unclosed {{');
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    parts.push(parseAction(rest.slice(open + 2, close)));
    rest = rest.slice(close + 2);
  }
  if (rest !== '') parts.push({ text: rest });
  return parts;
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** maxOutputBytes is the longest output a parsed template can produce for any values within TEMPLATE_FIELDS. */
export function maxOutputBytes(parts: Part[]): number {
  let total = 0;
  for (const p of parts) {
    if ('text' in p) {
      total += utf8Bytes(p.text);
      continue;
    }
    let n = 0;
    for (const o of p.operands) n += 'field' in o ? TEMPLATE_FIELDS[o.field] : utf8Bytes(o.literal);
    for (const f of p.pipes) n = GROWTH[f](n);
    total += n;
  }
  return total;
}

/** renderParts renders parsed parts with the given values (pure). */
export function renderParts(parts: Part[], values: TemplateValues): string {
  let out = '';
  for (const p of parts) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    let s = p.operands.map((o) => ('field' in o ? values[o.field] : o.literal)).join('');
    for (const f of p.pipes) s = FUNCTIONS[f](s);
    out += s;
  }
  return out;
}

/** CheckedTemplate is a spec.secret.template that parsed and fits the limits: data key -> parsed parts. */
export type CheckedTemplate = ReadonlyMap<string, Part[]>;

/**
 * checkTemplate parses every entry and proves its output bounded (for any values the fields may hold), or
 * throws a TemplateError naming the entry. `reserved` are the data keys that hold the values themselves.
 */
export function checkTemplate(
  template: Record<string, string> | undefined,
  reserved: string[],
): CheckedTemplate {
  const checked = new Map<string, Part[]>();
  const entries = Object.entries(template ?? {});
  if (entries.length > TEMPLATE_LIMITS.maxEntries)
    throw new TemplateError(
      `has ${entries.length} entries; at most ${TEMPLATE_LIMITS.maxEntries} are allowed`,
    );
  let total = 0;
  for (const [key, text] of entries) {
    if (reserved.includes(key))
      throw new TemplateError(`entry ${key} would overwrite the data key that holds a value of the key`);
    let parts: Part[];
    try {
      parts = parseTemplate(text);
    } catch (err) {
      throw new TemplateError(`entry ${key}: ${err instanceof Error ? err.message : 'cannot parse'}`);
    }
    const bound = maxOutputBytes(parts);
    if (bound > TEMPLATE_LIMITS.maxEntryBytes)
      throw new TemplateError(
        `entry ${key} can render up to ${bound} bytes; at most ${TEMPLATE_LIMITS.maxEntryBytes} are allowed`,
      );
    total += bound;
    checked.set(key, parts);
  }
  if (total > TEMPLATE_LIMITS.maxTotalBytes)
    throw new TemplateError(
      `its entries can render up to ${total} bytes together; at most ${TEMPLATE_LIMITS.maxTotalBytes} are allowed`,
    );
  return checked;
}

/** renderTemplate renders every checked entry from this ApiKey's own values; a value over its field's limit throws. */
export function renderTemplate(checked: CheckedTemplate, values: TemplateValues): Record<string, string> {
  for (const [field, max] of Object.entries(TEMPLATE_FIELDS)) {
    if (isField(field) && utf8Bytes(values[field]) > max)
      throw new TemplateError(`field .${field} is longer than ${max} bytes`);
  }
  const out: Record<string, string> = {};
  for (const [key, parts] of checked) out[key] = renderParts(parts, values);
  return out;
}
