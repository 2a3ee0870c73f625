/** Requirement is one term of a label selector, as the apiserver parses it. */
type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

/** LabelSelector tells whether a label set matches; `matches` of the empty selector is always true. */
export interface LabelSelector {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

const TERM =
  /^(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?:(==|=|!=)\s*([-A-Za-z0-9_.]*)|\s(in|notin)\s*\(([^)]*)\))?$/;

/** splitTerms splits a selector at the commas outside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function parseTerm(term: string): Requirement | undefined {
  const m = TERM.exec(term);
  if (!m) return undefined;
  const [, not, key = '', eq, value = '', setOp, list = ''] = m;
  if (not) return eq || setOp ? undefined : { key, op: '!exists' };
  if (eq) return { key, op: eq === '!=' ? 'notin' : 'in', values: [value] };
  if (setOp === 'in' || setOp === 'notin')
    return { key, op: setOp, values: list.split(',').map((v) => v.trim()) };
  return { key, op: 'exists' };
}

function satisfied(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'in':
      return has && r.values.includes(labels[r.key] ?? '');
    case 'notin':
      return !has || !r.values.includes(labels[r.key] ?? '');
  }
}

/**
 * parseLabelSelector parses a label selector in the apiserver's text form (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, joined by commas); undefined when a term is malformed.
 */
export function parseLabelSelector(selector: string): LabelSelector | undefined {
  const requirements: Requirement[] = [];
  for (const term of splitTerms(selector)) {
    const r = parseTerm(term);
    if (!r) return undefined;
    requirements.push(r);
  }
  return { matches: (labels) => requirements.every((r) => satisfied(r, labels ?? {})) };
}
