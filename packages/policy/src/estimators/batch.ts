import { NonFiniteError, ShapeError } from '../errors.ts';
import { isStateful, type ResolvedSpec } from './spec.ts';

export type IndexArray = Int32Array | readonly number[];

/** One outcome reward per sequence, plus the per-row index the estimator's kind needs. */
export interface EstimatorBatch {
  readonly rewards: Float32Array | Float64Array | readonly number[];
  /** grpo / drgrpo / rloo: group (prompt uid) index per row; any non-negative integers. */
  readonly groups?: IndexArray;
  /**
   * trr++: segment ((task type, role) pair) index per row; any non-negative integers. With
   * decay the index is the segment's state slot, in [0, numKeys), and must mean the same segment
   * on every call.
   */
  readonly segments?: IndexArray;
  /** rae: baseline key ((environment, role) pair) per row, in [0, numKeys). */
  readonly keys?: IndexArray;
}

export interface EstimatorResult {
  /** Per-sequence advantage, in row order. */
  readonly advantages: Float32Array;
  /** 1 where the learner should use the row; 0 for rows dropped by zeroVariance 'drop'. */
  readonly keep: Uint8Array;
  /** Number of groups (segments for reinforce++ / trr++) with zero variance; singletons count. */
  readonly zeroVarianceGroups: number;
  /** rae and trr++ with decay: the state after this batch (feed it to the next call). */
  readonly state?: Float32Array;
}

/**
 * A validated batch. `rewards` are rounded to float32, the precision the graph computes in, so
 * the float64 reference sees exactly the numbers the graph sees (zero-variance detection is an
 * exact equality test and must agree). `member` is a dense re-indexing of groups/segments in
 * order of first appearance (0 .. numMembers-1); for reinforce++ every row is in member 0; for
 * the stateful kinds (rae, trr++ with decay) it is the key / segment slot itself and numMembers
 * is numKeys.
 */
export interface PreparedBatch {
  readonly rows: number;
  readonly rewards: Float32Array;
  readonly member: Int32Array;
  readonly numMembers: number;
  /** Stateful kinds: the state before the batch (rae: numKeys baselines; trr++: 3 numKeys sums). */
  readonly state?: Float32Array;
  /** rae: the graph takes key indices, not a one-hot member matrix (a tabular baseline has thousands). */
  readonly byKey?: boolean;
}

const FIELD_OF = { grpo: 'groups', drgrpo: 'groups', rloo: 'groups', 'reinforce++': undefined, 'trr++': 'segments', rae: 'keys' } as const;
const INDEX_FIELDS = ['groups', 'segments', 'keys'] as const;
const BATCH_FIELDS = new Set<string>(['rewards', ...INDEX_FIELDS]);

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

export function prepareBatch(spec: ResolvedSpec, batch: EstimatorBatch, state?: Float32Array): PreparedBatch {
  if (typeof batch !== 'object' || batch === null) throw new ShapeError('batch', 'must be an object');
  for (const k of Object.keys(batch)) {
    if (!BATCH_FIELDS.has(k)) throw new ShapeError(k, 'unknown batch field');
  }
  const field = FIELD_OF[spec.kind];
  for (const f of INDEX_FIELDS) {
    if (f !== field && batch[f] !== undefined) throw new ShapeError(f, `not used by ${spec.kind}`);
  }
  if (!isArrayLike(batch.rewards)) throw new ShapeError('rewards', 'must be an array of numbers');
  const rows = batch.rewards.length;
  const rewards = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const r = batch.rewards[i];
    if (typeof r !== 'number' || !Number.isFinite(r)) throw new NonFiniteError('rewards', i);
    rewards[i] = r;
    // A finite float64 can still overflow float32.
    if (!Number.isFinite(rewards[i]!)) throw new NonFiniteError('rewards', i);
  }
  if (isStateful(spec)) return { rows, rewards, ...slotMembers(spec, field!, batch[field!], rows, state) };
  if (state !== undefined) throw new ShapeError('state', `${spec.kind} keeps no state`);
  if (field === undefined) return { rows, rewards, member: new Int32Array(rows), numMembers: rows > 0 ? 1 : 0 };
  const idx = checkIndices(field, batch[field], rows);
  const dense = new Map<number, number>();
  const member = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let d = dense.get(idx[i]!);
    if (d === undefined) dense.set(idx[i]!, (d = dense.size));
    member[i] = d;
  }
  return { rows, rewards, member, numMembers: dense.size };
}

function checkIndices(field: string, idx: IndexArray | undefined, rows: number): IndexArray {
  if (idx === undefined) throw new ShapeError(field, 'required for this estimator');
  if (!isArrayLike(idx)) throw new ShapeError(field, 'must be an array of integers');
  if (idx.length !== rows) throw new ShapeError(field, `length ${idx.length} != rewards length ${rows}`);
  for (let i = 0; i < rows; i++) {
    const v = idx[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new ShapeError(field, `row ${i}: ${String(v)} is not a non-negative integer`);
    }
  }
  return idx;
}

/** Length of a stateful estimator's state: rae one baseline per key, trr++ (W, S1, S2) per segment. */
export function stateLength(spec: ResolvedSpec): number {
  return spec.kind === 'rae' ? spec.numKeys : isStateful(spec) ? 3 * spec.numKeys : 0;
}

/** rae keys / trr++ segment slots: the index is the state slot, in [0, numKeys). */
function slotMembers(spec: ResolvedSpec, field: string, idxIn: IndexArray | undefined, rows: number, state: Float32Array | undefined) {
  const idx = checkIndices(field, idxIn, rows);
  const member = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    if (idx[i]! >= spec.numKeys) throw new ShapeError(field, `row ${i}: ${idx[i]} >= numKeys ${spec.numKeys}`);
    member[i] = idx[i]!;
  }
  const length = stateLength(spec);
  let before: Float32Array;
  if (state === undefined) before = new Float32Array(length);
  else {
    if (!(state instanceof Float32Array)) throw new ShapeError('state', 'must be a Float32Array');
    if (state.length !== length) throw new ShapeError('state', `length ${state.length} != ${length} (numKeys ${spec.numKeys})`);
    state.forEach((v, i) => { if (!Number.isFinite(v)) throw new NonFiniteError('state', i); });
    before = Float32Array.from(state);
  }
  return { member, numMembers: spec.numKeys, state: before, byKey: spec.kind === 'rae' };
}
