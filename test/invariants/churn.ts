import { kubectl } from '../control-plane/testing.ts';
import { apiKeyManifest } from '../e2e/support/manifests.ts';
import type { World } from '../e2e/support/world.ts';
import { waitForInvariants } from './checker.ts';
import type { Measured } from './results.ts';
import type { FaultRun } from './world-helpers.ts';

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

/**
 * churnWithKills runs a seeded churn over the world's namespaces, SIGKILLing the operator at `kills`
 * random rounds (each kill measured: the old process must have died of SIGKILL), then waits for every
 * invariant. It throws when the churn did nothing to judge: no create, update or delete succeeded, or
 * no ApiKey is left at the end (an empty world "holds" trivially).
 */
export async function churnWithKills(
  world: World,
  run: FaultRun & { adopt(): void },
  opts: {
    seed: number;
    size: number;
    rounds: number;
    kills: number;
    maxDelayMs: number;
    steadyWindowMs: number;
    timeoutMs: number;
  },
): Promise<Measured & { stats: ChurnStats; live: number }> {
  const random = seededRandom(opts.seed);
  const schedule = killSchedule(opts.rounds, opts.kills, random);
  let killed = 0;
  const stats = await churn({
    namespaces: world.namespaces,
    size: opts.size,
    rounds: opts.rounds,
    maxDelayMs: opts.maxDelayMs,
    random,
    onRound: async (round) => {
      if (!schedule.has(round)) return;
      const victim = world.operator;
      await world.restartOperator({ crash: true });
      run.adopt();
      if (victim.signal() !== 'SIGKILL')
        throw new Error(`round ${round}: the operator died of ${victim.signal()}`);
      killed++;
    },
  });
  if (stats.creates === 0 || stats.updates === 0 || stats.deletes === 0)
    throw new Error(`the churn did not exercise every operation: ${JSON.stringify(stats)}`);
  const violations = await waitForInvariants(
    await run.invariantInput({ steadyWindowMs: opts.steadyWindowMs }),
    opts.timeoutMs,
  );
  let live = 0;
  for (const ns of world.namespaces) {
    const r = await kubectl(['get', 'apikeys', '-n', ns, '-o', 'name']);
    if (r.code !== 0) throw new Error(`cannot list ApiKeys in ${ns}: ${r.stderr}`);
    live += r.stdout.split('\n').filter(Boolean).length;
  }
  if (live === 0) throw new Error(`the churn left no ApiKey to judge: ${JSON.stringify(stats)}`);
  const note = `${stats.creates} applies, ${stats.updates} updates, ${stats.deletes} deletes; ${live} ApiKeys judged at the end`;
  return { violations, times: killed, note, stats, live };
}
