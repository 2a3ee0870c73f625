import { z } from 'zod';

/** FAULT_KINDS are the failures the emulator can inject into Rancher requests. */
export const FAULT_KINDS = ['latency', 'status', 'reset', 'hang', 'lostResponse', 'outage'] as const;

/** FaultRuleSchema validates a fault rule (the body of `POST /__emulator/faults`). */
export const FaultRuleSchema = z
  .object({
    route: z.string().min(1).optional(),
    kind: z.enum(FAULT_KINDS),
    latencyMs: z.number().int().nonnegative().optional(),
    status: z.number().int().min(400).max(599).optional(),
    times: z.number().int().positive().optional(),
  })
  .refine((r) => r.kind !== 'latency' || r.latencyMs !== undefined, {
    message: 'latency faults need latencyMs',
    path: ['latencyMs'],
  })
  .refine((r) => r.kind !== 'status' || r.status !== undefined, {
    message: 'status faults need status',
    path: ['status'],
  });

/** FaultRule is one injected failure: which route (`*` or a trailing-`*` prefix), what kind, and for how many requests. */
export type FaultRule = z.infer<typeof FaultRuleSchema>;

/** ActiveFault is a registered rule with its id, the requests it may still affect, and how many it affected. */
export interface ActiveFault extends FaultRule {
  id: string;
  remaining: number | null;
  hits: number;
}

function routeMatches(pattern: string | undefined, route: string): boolean {
  if (pattern === undefined || pattern === '*') return true;
  if (pattern.endsWith('*')) return route.startsWith(pattern.slice(0, -1));
  return pattern === route;
}

/** FaultRegistry keeps fault rules in registration order and hands out the first one matching a route. */
export class FaultRegistry {
  readonly #rules: ActiveFault[] = [];
  #nextId = 1;

  /** add registers a validated rule and returns its id. */
  add(rule: FaultRule): string {
    const id = `fault-${this.#nextId++}`;
    this.#rules.push({ ...rule, id, remaining: rule.times ?? null, hits: 0 });
    return id;
  }

  /** remove deletes one rule; it tells whether the rule existed. */
  remove(id: string): boolean {
    const index = this.#rules.findIndex((r) => r.id === id);
    if (index >= 0) this.#rules.splice(index, 1);
    return index >= 0;
  }

  /** clear deletes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /**
   * list returns copies of every rule until cleared, used-up ones included (remaining 0), so that a test
   * can compare each rule's hits with its times by id.
   */
  list(): ActiveFault[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  /** take returns the first rule matching the route that is not used up, and consumes one of its `times`. */
  take(route: string): FaultRule | undefined {
    const rule = this.#rules.find((r) => r.remaining !== 0 && routeMatches(r.route, route));
    if (!rule) return undefined;
    rule.hits++;
    if (rule.remaining !== null) rule.remaining--;
    return rule;
  }
}
