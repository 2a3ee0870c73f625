import type { z } from 'zod';
import { invalidResponse } from './errors.ts';

/** parseWire parses a response body with a schema, naming only the offending field paths on failure. */
export function parseWire<S extends z.ZodType>(
  schema: S,
  action: string,
  json: unknown,
  status?: number,
): z.output<S> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const paths = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
  throw invalidResponse(action, `unexpected response shape at ${paths.join(', ')}`, status);
}
