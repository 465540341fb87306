import { LENGTH_STEP } from './batch.ts';
import { pow2Bucket, rowBucket, stepBucket } from './sessions.ts';

/**
 * Length-bucketed micro-batches. A learner batch is padded to its longest row, so a few long rows
 * (a proposer's prompt full of references) make every short row (a solver's answer) cost as much
 * as they do. When two parts — the rows up to some length, and the rest — pad to clearly fewer
 * cells than the whole, the step runs as two micro-batches whose gradients are summed before one
 * optimizer update (exactly the whole batch's gradient: the loss divides by the whole batch's
 * tokens or rows, see StepShape.partial).
 */

/** What one more graph run costs, in padded [row × position] cells (measured order of magnitude). */
export const RUN_OVERHEAD_CELLS = 1024;
/** Split only when two parts cost at most this share of one padded batch: a new shape compiles a graph, and rlvr-fixed's batches, whose gains are marginal, ran 15 % slower split at 0.75 (3-min probe, 566 vs 667 steps). */
export const SPLIT_GAIN = 0.6;

/**
 * A micro-batch's rows are padded to a power of two: every new [rows × length] shape compiles a
 * graph (about a second here), and power-of-two rows keep the shapes a run meets few.
 */
export const partRows = (rows: number) => pow2Bucket(rows);

/** Padded cells of a part of `rows` rows up to `length` long. */
export const paddedCells = (rows: number, length: number, context: number) => partRows(rows) * stepBucket(length, LENGTH_STEP, context);

/**
 * Row indices per micro-batch: one part (all rows, in order) when splitting does not pay,
 * otherwise two parts — shorter rows first — at the split point with the fewest padded cells.
 * `lengths` are each row's trained span (tokens − 1).
 */
export function splitByLength(lengths: readonly number[], context: number, gain = SPLIT_GAIN): number[][] {
  const n = lengths.length;
  const all = [...lengths.keys()];
  if (n < 2) return [all];
  const order = [...all].sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  // The one-run path pads rows more finely (rowBucket): compare against what it really costs.
  const whole = rowBucket(n) * stepBucket(lengths[order[n - 1]!]!, LENGTH_STEP, context);
  let best = { cost: Infinity, k: 0 };
  for (let k = 1; k < n; k++) {
    // Split only between rows of different padded length: equal buckets gain nothing.
    const short = lengths[order[k - 1]!]!;
    if (stepBucket(short, LENGTH_STEP, context) === stepBucket(lengths[order[k]!]!, LENGTH_STEP, context)) continue;
    const cost = paddedCells(k, short, context) + paddedCells(n - k, lengths[order[n - 1]!]!, context) + RUN_OVERHEAD_CELLS;
    if (cost < best.cost) best = { cost, k };
  }
  if (best.k === 0 || best.cost > gain * whole) return [all];
  return [order.slice(0, best.k), order.slice(best.k)];
}

/**
 * Micro-batches of at most `budget` padded cells each (a part of k rows up to length L costs
 * partRows(k) · stepBucket(L) cells), so a step's activations are bounded by the budget, not by
 * the batch. Rows go shortest first into consecutive parts, each grown while it fits; a row
 * longer than the budget allows gets a part of its own (a sequence is never cut).
 */
export function splitByBudget(lengths: readonly number[], context: number, budget: number): number[][] {
  const order = [...lengths.keys()].sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const parts: number[][] = [];
  let part: number[] = [];
  for (const i of order) {
    if (part.length > 0 && paddedCells(part.length + 1, lengths[i]!, context) > budget) {
      parts.push(part);
      part = [];
    }
    part.push(i);
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * The whole batch's denominators as the loss graph computes them for one batch: the sum of the
 * trained mask (mask[1..]; the graph's Σ m) and the rows whose mask sums above 0.
 */
export function batchTotals(masks: readonly ArrayLike<number>[]): { tokens: number; rows: number } {
  let tokens = 0;
  let rows = 0;
  for (const m of masks) {
    let t = 0;
    for (let i = 1; i < m.length; i++) t += m[i]!;
    tokens += t;
    if (t > 0) rows++;
  }
  return { tokens, rows };
}
