import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createControllerLoop } from './controller-loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('controller loop with the tenant budget', () => {
  // A randomised run of the real queue, budget and loop: slow passes (so namespaces turn slow and keys are
  // deferred), requeues, retries, re-adds at any time, and ApiKeys that leave the cache while their key waits
  // (their later passes belong to no namespace). Every key added must run afterwards: a deferred key handed
  // back to the queue that then ran without its namespace used to take the namespace's turn with it, and a
  // 10,000-key deletion stranded 426 ApiKeys that way.
  it('every key added runs afterwards, while namespaces are slow and ApiKeys leave the cache', async () => {
    for (let trial = 0; trial < 2; trial++) {
      let seq = 0;
      const lastAdd = new Map<string, number>();
      const lastStart = new Map<string, number>();
      const gone = new Set<string>();
      let churn = true;
      const loop = createControllerLoop<string>({
        name: `fuzz-${trial}`,
        concurrency: 32,
        qps: 1000,
        burst: 1000,
        keyOf: (k) => k,
        budgetOf: (k) => (gone.has(k) ? [] : [k.split('/')[0] ?? '']),
        tenant: { maxSlowPasses: 2, slowAfterMs: 5 },
        metrics: createMetrics(),
        logger: createLogger({ level: 'error', destination: { write: () => undefined } }),
        reconcile: async (k) => {
          lastStart.set(k, seq++);
          const r = Math.random();
          await sleep(r < 0.6 ? 10 + Math.random() * 30 : Math.random() * 3);
          if (!churn) return { kind: 'done' };
          if (r < 0.1) return { kind: 'retry', error: new Error('try again') };
          return {
            kind: 'done',
            requeueAfterMs: Math.random() < 0.5 ? Math.floor(Math.random() * 20) : undefined,
          };
        },
      });
      loop.start();
      const keys = Array.from({ length: 1000 }, (_, i) => `ns-${i % 4}/key-${i}`);
      const add = (k: string) => {
        lastAdd.set(k, seq++);
        loop.add(k);
      };
      for (const k of keys) add(k);
      const pick = () => keys[Math.floor(Math.random() * keys.length)] ?? '';
      for (const until = Date.now() + 1_000; Date.now() < until; await sleep(Math.random() * 10)) {
        for (let i = 0; i < 20; i++) {
          gone.add(pick());
          add(pick());
        }
      }
      churn = false;
      const stranded = () => [...lastAdd].filter(([k, s]) => (lastStart.get(k) ?? -1) < s).map(([k]) => k);
      for (const end = Date.now() + 10_000; Date.now() < end && stranded().length > 0; ) await sleep(20);
      expect({ trial, stranded: stranded() }).toEqual({ trial, stranded: [] });
      await loop.stop();
    }
  }, 60_000);
});
