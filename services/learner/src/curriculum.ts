/**
 * Curriculum health as the learner reports it: the run's decontamination and proposal counters
 * (written to Redis by the proposer, judge and warm start), the novelty of recent proposals, and
 * how many proposer rows of a batch carry a learning signal.
 */
import { keys, type Curriculum, type Trajectory } from '@spar/core';
import type { Redis } from '@spar/service-kit';

/** Roles that propose tasks (absolute-zero's proposer, r-zero's challenger). */
const PROPOSING_ROLES = new Set(['proposer', 'challenger']);

/** The run's curriculum counters, as the record's `curriculum`. */
export async function readCurriculum(redis: Redis, experimentId: string): Promise<Curriculum> {
  const counters = await redis.hgetall(keys.counters(experimentId));
  const excluded: Record<string, number> = {};
  const proposals: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) {
    if (k.startsWith('excluded_')) excluded[k.slice('excluded_'.length)] = Number(v);
    else if (k.startsWith('proposals_')) proposals[k.slice('proposals_'.length)] = Number(v);
  }
  const recent = await redis.lrange(keys.novelty(experimentId), 0, -1);
  return {
    excluded, contaminated: excluded.judge ?? 0,
    ...(recent.length ? { distinctPer1000: Math.round((new Set(recent).size * 1000) / recent.length) } : {}),
    ...(Object.keys(proposals).length ? { proposals } : {}),
  };
}

/** Share of the batch's proposing rows whose advantage is not zero (undefined: none in the batch). */
export function proposerSignalShare(batch: readonly Trajectory[], advantages: ArrayLike<number>, keep: ArrayLike<number>): number | undefined {
  let rows = 0;
  let nonZero = 0;
  batch.forEach((t, i) => {
    if (!PROPOSING_ROLES.has(t.sample.role)) return;
    rows++;
    if (keep[i] && Math.abs(advantages[i] ?? 0) > 1e-6) nonZero++;
  });
  return rows ? nonZero / rows : undefined;
}

/** Means of named measurements (judge stats), each over the entries that carried it. */
export class StatMeans {
  private readonly sums = new Map<string, { sum: number; n: number }>();

  /** Add one entry's values; non-numbers and non-finite values are skipped. */
  add(values: Readonly<Record<string, unknown>>): void {
    for (const [k, v] of Object.entries(values)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const acc = this.sums.get(k) ?? { sum: 0, n: 0 };
      acc.sum += v;
      acc.n++;
      this.sums.set(k, acc);
    }
  }

  /** The means so far (undefined when nothing was added), and a fresh start. */
  take(): Record<string, number> | undefined {
    if (this.sums.size === 0) return undefined;
    const out: Record<string, number> = {};
    for (const [k, { sum, n }] of this.sums) out[k] = sum / n;
    this.sums.clear();
    return out;
  }
}
