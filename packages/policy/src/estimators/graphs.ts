import { Graph, int, type Value } from '../graph/index.ts';
import { RUNNING_ZERO_VARIANCE } from './spec.ts';

/**
 * Static-shape float32 ONNX graphs for the estimators. Every graph takes
 *   rewards [B]     one outcome reward per row (0 on padded rows),
 *   valid   [B]     1 on real rows, 0 on padding,
 *   member  [B, G]  one-hot group / segment / key of each row (all-zero rows on padding),
 * and masks `member` by `valid` itself, so padded rows cannot reach any statistic: whatever
 * finite values they carry, results on the real rows are unchanged.
 * Per-group statistics are MatMuls with the one-hot matrix: sums = r^T M, and a per-group value
 * v is read back per row as M v. The rae graph takes key indices instead (see buildRaeGraph).
 */

export type GroupedMode = 'grpo' | 'drgrpo' | 'rloo' | 'whiten';

export interface GroupedGraphOptions {
  readonly mode: GroupedMode;
  /** grpo: added to the std; whiten: added to the variance. */
  readonly eps: number;
  /** zeroVariance 'drop': clear `keep` on rows of zero-variance groups. */
  readonly drop: boolean;
  readonly rows: number;
  readonly groups: number;
}

/** The common inputs: rewards, valid, and `member` masked by `valid`, with its two MatMul read-outs. */
function membership(g: Graph, B: number, G: number) {
  const r = g.input('rewards', 'float32', [B]);
  const valid = g.input('valid', 'float32', [B]);
  const M = g.mul(g.input('member', 'float32', [B, G]), g.reshape(valid, [B, 1]));
  /** A per-group value read back per row (M v). */
  const perRow = (v: Value): Value => g.reshape(g.matmul(M, g.reshape(v, [G, 1])), [B]);
  /** A per-row value summed per group (v^T M). */
  const perGroup = (v: Value): Value => g.reshape(g.matmul(g.reshape(v, [1, B]), M), [G]);
  return { r, valid, M, perRow, perGroup, n: g.reduceSum(M, [0]) };
}

/**
 * The common outputs: advantages = dev × the per-group scale (zeroed before the read-back MatMul
 * on groups that are not `ok`: an inf scale would turn 0 × inf into NaN), keep (real rows; under
 * 'drop' not those of zero-variance groups), and the count of zero-variance groups.
 */
function outputs(g: Graph, m: ReturnType<typeof membership>, dev: Value, scale: Value, ok: Value, zeroVar: Value, drop: boolean): void {
  g.output(g.mul(dev, m.perRow(g.where(ok, scale, 0))), 'advantages');
  const zeroVarF = g.cast(zeroVar, 'float32');
  const real = g.greater(m.valid, 0.5);
  g.output(drop ? g.and(real, g.not(g.greater(m.perRow(zeroVarF), 0.5))) : real, 'keep');
  g.output(g.reduceSum(zeroVarF, [0]), 'zero_variance_groups');
}

/**
 * grpo / drgrpo / rloo over groups, and "whiten" = REINFORCE++ / TRR++ normalisation over
 * segments (REINFORCE++ is the one-segment case). Whitening statistics are sequence-weighted,
 * one row per sequence, not verl's token-weighted masked_whiten (verl PR #6497). Outputs:
 *   advantages [B]; keep [B] bool; zero_variance_groups [] float (a count).
 * A group has zero variance when max == min over its rows (exact, so a constant group gets
 * advantage exactly 0 instead of rounding noise divided by eps); singletons qualify. Padded
 * groups (no rows) are neither counted nor used.
 */
export function buildGroupedGraph(o: GroupedGraphOptions): Graph {
  const B = o.rows;
  const G = o.groups;
  const g = new Graph('float32');
  const m = membership(g, B, G);
  const { r, valid, M, perRow, perGroup, n } = m;
  const mean = g.div(perGroup(r), g.max(n, 1));
  const dev = g.mul(g.sub(r, perRow(mean)), valid);
  // Two-pass variance (sum of squared deviations), unbiased; padded/singleton groups divide by 1.
  const variance = g.div(perGroup(g.mul(dev, dev)), g.max(g.sub(n, 1), 1));

  const inGroup = g.greater(M, 0);
  const rCol = g.reshape(r, [B, 1]);
  const hi = g.reduceMax(g.where(inGroup, rCol, -Infinity), [0]);
  const lo = g.neg(g.reduceMax(g.where(inGroup, g.neg(rCol), -Infinity), [0]));
  const present = g.greater(n, 0.5);
  const constant = g.equal(hi, lo); // false for absent groups: -inf vs +inf
  const zeroVar = g.and(present, constant);
  const ok = g.and(present, g.not(constant));

  let scale: Value;
  switch (o.mode) {
    case 'grpo': scale = g.div(1, g.add(g.sqrt(variance), o.eps)); break;
    case 'drgrpo': scale = g.where(ok, 1, 0); break;
    // s_i - mean_{j != i} s_j = n/(n-1) (s_i - mean)
    case 'rloo': scale = g.div(n, g.max(g.sub(n, 1), 1)); break;
    case 'whiten': scale = g.div(1, g.sqrt(g.add(variance, o.eps))); break;
  }
  outputs(g, m, dev, scale, ok, zeroVar, o.drop);
  return g;
}

export interface RunningWhitenGraphOptions {
  readonly decay: number;
  readonly eps: number;
  readonly drop: boolean;
  readonly rows: number;
  /** numKeys: segment slots, exactly (the state is 3 * keys). */
  readonly keys: number;
}

/**
 * TRR++ with running per-segment statistics (spec.ts gives the formulas). Inputs rewards [B],
 * valid [B], member [B, K] one-hot segment slot, state [3K] = (W, S1, S2) planes; outputs
 * advantages [B], keep [B] bool, zero_variance_groups [], state_out [3K]. The batch's
 * (count, sum, sum of squares) per segment are one concat of three r^T M products, so the whole
 * update is state_out = d state + that, and mu, var are read off its three planes.
 * W >= 1 for every segment with rows, so dividing by max(W, 1) only changes the (unused) mean of
 * absent segments, whose W may be 0 or decayed below 1.
 */
export function buildRunningWhitenGraph(o: RunningWhitenGraphOptions): Graph {
  const B = o.rows;
  const K = o.keys;
  const g = new Graph('float32');
  const m = membership(g, B, K);
  const { r, valid, perRow, perGroup, n } = m;
  const state = g.input('state', 'float32', [3 * K]);
  const sums = g.concat([n, perGroup(r), perGroup(g.mul(r, r))], 0);
  const total = g.add(g.mul(state, o.decay), sums);
  g.output(total, 'state_out');
  const W = g.max(g.slice(total, 0, 0, K), 1);
  const mean = g.div(g.slice(total, 0, K, 2 * K), W);
  const variance = g.max(g.sub(g.div(g.slice(total, 0, 2 * K, 3 * K), W), g.mul(mean, mean)), 0);

  const present = g.greater(n, 0.5);
  const flat = g.less(variance, RUNNING_ZERO_VARIANCE);
  const zeroVar = g.and(present, flat);
  const ok = g.and(present, g.not(flat));
  const dev = g.mul(g.sub(r, perRow(mean)), valid);
  outputs(g, m, dev, g.div(1, g.sqrt(g.add(variance, o.eps))), ok, zeroVar, o.drop);
  return g;
}

export interface RaeGraphOptions {
  readonly decay: number;
  readonly rows: number;
  readonly keys: number;
}

/**
 * SPIRAL / prime-rl role-conditioned advantage with sequential in-batch semantics: rows are
 * processed in batch order and each row sees its key's baseline after the EMA updates of all
 * earlier rows of that key in the batch (identical to one call per row). Inputs
 *   rewards [B], valid [B], key [B] int64 (the row's baseline index in 0..K-1), state [K]
 * (baselines before the batch); outputs advantages [B], state_out [K].
 *
 * Closed form (d = decay). Let m_j be the number of earlier rows with row j's key (its rank
 * within the key) and n_k the number of rows with key k. Unrolling b <- d b + (1 - d) R:
 *   b_before(j) = d^m_j b0[k] + (1 - d) sum_{i<j, key i = k} d^(m_j - m_i - 1) R_i
 *   b_after[k]  = d^n_k b0[k] + (1 - d) sum_{key i = k}      d^(n_k - m_i - 1) R_i
 *   A_j         = R_j - b_before(j).
 * "Same key" is the [B,B] equality of the row keys (padding rows excluded), "earlier, same key"
 * its strict lower triangle (Trilu, k = -1), so m is that row sum. Nothing is [B,K]: the cost is
 * O(B^2) whatever the number of keys (a tabular baseline has thousands). b_after is computed
 * per row (identical for every row of a key) and scattered into the state; padding rows write
 * into an extra slot K that is sliced off. Powers are exp(x ln d) with exponents clamped at 0
 * off the mask (so nothing overflows).
 */
export function buildRaeGraph(o: RaeGraphOptions): Graph {
  const B = o.rows;
  const K = o.keys;
  const lnd = Math.log(o.decay);
  const g = new Graph('float32');
  const r = g.input('rewards', 'float32', [B]);
  const valid = g.input('valid', 'float32', [B]);
  const keyIn = g.input('key', 'int64', [B]);
  const b0 = g.input('state', 'float32', [K]);
  const pow = (x: Value): Value => g.exp(g.mul(g.max(x, 0), lnd));
  const col = (v: Value): Value => g.reshape(v, [B, 1]);
  const row = (v: Value): Value => g.reshape(v, [1, B]);

  const key = g.where(g.greater(valid, 0), keyIn, g.constant(BigInt64Array.of(BigInt(K)), [], 'int64', 'rae_pad_key'));
  const same = g.mul(g.cast(g.equal(col(key), row(key)), 'float32'), g.mul(col(valid), row(valid)));
  const k = g.constant(BigInt64Array.from([-1n]), [], 'int64', 'trilu_k');
  const earlier = g.op('Trilu', [same, k], { upper: int(0) }, 'float32', [B, B]);
  const m = g.reduceSum(earlier, [1]);
  const lag = g.sub(g.sub(col(m), row(m)), 1);
  const weights = g.mul(g.mul(earlier, pow(lag)), 1 - o.decay);
  const fromBatch = g.reshape(g.matmul(weights, col(r)), [B]);
  const slots = g.concat([b0, g.zeros([1])], 0); // [K+1], slot K for padding rows
  const b0Row = g.gather(slots, key);
  const before = g.add(g.mul(pow(m), b0Row), fromBatch);
  g.output(g.mul(g.sub(r, before), valid), 'advantages');

  const n = g.reduceSum(same, [1]);
  const w = g.mul(g.mul(pow(g.sub(g.sub(n, m), 1)), valid), 1 - o.decay);
  const after = g.add(g.mul(pow(n), b0Row), g.reshape(g.matmul(same, col(g.mul(w, r))), [B]));
  g.output(g.slice(g.scatterElements(slots, key, after, 0), 0, 0, K), 'state_out');
  return g;
}
