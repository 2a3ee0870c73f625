import { kubectl } from '../control-plane/testing.ts';
import { apiKeyManifest } from '../e2e/support/manifests.ts';

/** ChurnStats counts what a churn did, for the reliability table. */
export interface ChurnStats {
  creates: number;
  updates: number;
  deletes: number;
}

/** seededRandom returns a small deterministic PRNG (mulberry32) so a failing churn can be replayed by seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const POLICIES = ['Purge', 'Remove', 'Orphan'] as const;

/**
 * churn runs `rounds` random operations on ApiKeys `churn-0..size-1` in `namespaces`: create (with a
 * random deletion policy and state), update (description, state or rotate annotation) or delete
 * (without waiting), sleeping a random 0..maxDelayMs between them. kubectl failures (e.g. during an
 * apiserver restart) are counted out, not thrown.
 */
export async function churn(opts: {
  namespaces: string[];
  size: number;
  rounds: number;
  maxDelayMs: number;
  random: () => number;
  onRound?: (round: number) => Promise<void>;
}): Promise<ChurnStats> {
  const stats: ChurnStats = { creates: 0, updates: 0, deletes: 0 };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(opts.random() * xs.length)] as T;
  for (let round = 0; round < opts.rounds; round++) {
    await opts.onRound?.(round);
    const ns = pick(opts.namespaces);
    const name = `churn-${Math.floor(opts.random() * opts.size)}`;
    const roll = opts.random();
    if (roll < 0.45) {
      const spec = {
        description: `round ${round} ✓ ünïcode`,
        state: opts.random() < 0.8 ? 'Active' : 'Inactive',
        deletionPolicy: pick(POLICIES),
      };
      const r = await kubectl(['apply', '-f', '-'], { input: apiKeyManifest(ns, name, spec) });
      if (r.code === 0) stats.creates++;
    } else if (roll < 0.75) {
      const patch = JSON.stringify({
        spec: {
          description: `updated in round ${round}`,
          state: opts.random() < 0.7 ? 'Active' : 'Inactive',
        },
      });
      const r = await kubectl(['patch', 'apikey', name, '-n', ns, '--type=merge', '-p', patch]);
      if (r.code === 0) stats.updates++;
    } else {
      const r = await kubectl(['delete', 'apikey', name, '-n', ns, '--wait=false', '--ignore-not-found']);
      if (r.code === 0) stats.deletes++;
    }
    await new Promise((res) => setTimeout(res, Math.floor(opts.random() * opts.maxDelayMs)));
  }
  return stats;
}

/**
 * killSchedule picks `kills` distinct rounds in [1, rounds) at which to SIGKILL the operator,
 * deterministic for a seed.
 */
export function killSchedule(rounds: number, kills: number, random: () => number): Set<number> {
  const out = new Set<number>();
  while (out.size < Math.min(kills, rounds - 1)) out.add(1 + Math.floor(random() * (rounds - 1)));
  return out;
}
