/**
 * Decontamination: every experiment's held-out evaluation prompts, as the solver sees them, are
 * kept out of everything it trains on — generator draws, proposals, the task buffer (its seed
 * and replay), warm-start examples. A recipe with a held-out prompt set implements
 * `Recipe.heldOut(config)`; each training source asks `has(task)` and reports what it left out
 * through an `OnExcluded` callback, which the services turn into
 * `spar_tasks_excluded_total{recipe,source,reason="held_out"}` and the record's `curriculum`.
 */

/** Where a training task came from (the `source` label of the exclusion metric). */
export const EXCLUSION_SOURCES = ['generator', 'proposal', 'seed', 'replay', 'warm_start', 'judge'] as const;
export type ExclusionSource = (typeof EXCLUSION_SOURCES)[number];

/** Called with the number of held-out tasks a source left out. */
export type OnExcluded = (source: ExclusionSource, n: number) => void;

/** An experiment's held-out prompts. */
export interface HeldOut {
  /** Whether `task` (the recipe's task, in any form its validation accepts) poses a held-out prompt. Never throws. */
  has(task: unknown): boolean;
  /** Number of distinct held-out prompts. */
  readonly size: number;
}

/** Reason prefix of a validation verdict that refused a held-out task (it is not a bad proposal). */
export const HELD_OUT_REASON = 'held_out';

export function isHeldOutReason(reason: string | undefined): boolean {
  return reason !== undefined && reason.startsWith(HELD_OUT_REASON);
}

/** A small cache of held-out sets by key (the set depends on the eval seed, size and options). */
export function heldOutCache<T>(build: (key: string) => T, limit = 8): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      v = build(key);
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(key, v);
    }
    return v;
  };
}
