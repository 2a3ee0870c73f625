import { Gauge, type Registry } from 'prom-client';

/** KeyMetrics exposes per-key age and rotation schedule, and orphan counts per connection. */
export interface KeyMetrics {
  /** observeKey records when an ApiKey's current key was created and when it is next rotated (epoch ms). */
  observeKey(
    namespace: string,
    name: string,
    createdAtMs: number | undefined,
    nextRotationMs: number | undefined,
  ): void;
  forgetKey(namespace: string, name: string): void;
  setOrphans(connection: string, count: number): void;
}

/** createKeyMetrics registers the gauges on `registry`; key age is computed at scrape time. */
export function createKeyMetrics(registry: Registry, now: () => number = Date.now): KeyMetrics {
  const created = new Map<string, { namespace: string; name: string; at: number }>();
  new Gauge({
    name: 'rancher_apikey_operator_key_age_seconds',
    help: 'Age of the current Rancher key of each ApiKey',
    labelNames: ['namespace', 'name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const k of created.values())
        this.set({ namespace: k.namespace, name: k.name }, (now() - k.at) / 1000);
    },
  });
  const next = new Gauge({
    name: 'rancher_apikey_operator_next_rotation_timestamp_seconds',
    help: 'When each ApiKey with a rotation schedule is next rotated (Unix time)',
    labelNames: ['namespace', 'name'] as const,
    registers: [registry],
  });
  const orphans = new Gauge({
    name: 'rancher_apikey_operator_orphan_keys',
    help: 'Rancher keys with this operator’s ownership marker that belong to no live ApiKey, per connection',
    labelNames: ['connection'] as const,
    registers: [registry],
  });
  return {
    observeKey(namespace, name, createdAtMs, nextRotationMs) {
      const id = `${namespace}/${name}`;
      if (createdAtMs === undefined) created.delete(id);
      else created.set(id, { namespace, name, at: createdAtMs });
      if (nextRotationMs === undefined) next.remove({ namespace, name });
      else next.set({ namespace, name }, nextRotationMs / 1000);
    },
    forgetKey(namespace, name) {
      created.delete(`${namespace}/${name}`);
      next.remove({ namespace, name });
    },
    setOrphans: (connection, count) => orphans.set({ connection }, count),
  };
}
