import type { InferenceSession } from 'onnxruntime-node';
import { PolicyError } from '../errors.ts';
import { serialize, type Graph, type TensorData } from '../graph/index.ts';
import { createSession, runSession, type RuntimeOptions } from '../runtime/session.ts';
import { prepareBatch, stateLength, type EstimatorBatch, type EstimatorResult, type PreparedBatch } from './batch.ts';
import { buildGroupedGraph, buildRaeGraph, buildRunningWhitenGraph, type GroupedMode } from './graphs.ts';
import { isStateful, resolveSpec, type EstimatorSpec, type ResolvedSpec } from './spec.ts';

/** Smallest power of two >= max(n, min). Rows bucket from 8, groups/segments from 1. */
export function bucket(n: number, min: number): number {
  let b = min;
  while (b < n) b *= 2;
  return b;
}

const MODE: Record<Exclude<ResolvedSpec['kind'], 'rae'>, GroupedMode> = {
  grpo: 'grpo', drgrpo: 'drgrpo', rloo: 'rloo', 'reinforce++': 'whiten', 'trr++': 'whiten',
};

/**
 * Computes advantages for one estimator spec on onnxruntime. Batches are padded to bucketed
 * static shapes (rows: next power of two >= 8; groups / segments: next power of two; rae keys and
 * trr++-with-decay segments: exactly numKeys) and one session is compiled and cached per bucket shape.
 * The stateful kinds (rae, trr++ with decay; isStateful) keep no state here: the caller passes
 * it in and gets the updated state back (`result.state`) so that it is checkpointed with the rest
 * of the trainer state.
 */
export class AdvantageEstimator {
  readonly spec: ResolvedSpec;
  private readonly runtime: RuntimeOptions;
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private closing?: Promise<void>;

  private constructor(spec: ResolvedSpec, runtime: RuntimeOptions) {
    this.spec = spec;
    this.runtime = runtime;
  }

  /** Validates the spec (ConfigError on unknown or inapplicable fields). Sessions compile lazily. */
  static async create(spec: EstimatorSpec, runtime: RuntimeOptions = {}): Promise<AdvantageEstimator> {
    return new AdvantageEstimator(resolveSpec(spec), runtime);
  }

  /**
   * All zeros: rae's baselines (SPIRAL's EMA starts at 0, no bias correction); trr++'s running
   * sums (no history). Empty for the stateless kinds.
   */
  initialState(): Float32Array {
    return new Float32Array(stateLength(this.spec));
  }

  /**
   * Advantages of one batch; for the stateful kinds `state` defaults to initialState(). Inputs
   * are validated first. For trr++ with decay every call is one step: even an empty batch decays
   * the state.
   */
  async compute(batch: EstimatorBatch, state?: Float32Array): Promise<EstimatorResult> {
    if (this.closed) throw new PolicyError('ESTIMATOR_CLOSED', 'AdvantageEstimator is closed');
    const b = prepareBatch(this.spec, batch, state);
    const run = this.run(b);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  private async run(b: PreparedBatch): Promise<EstimatorResult> {
    const rae = this.spec.kind === 'rae';
    // An empty batch changes nothing, except trr++'s running sums: they decay once per call, so
    // its graph runs on a batch of padding alone.
    if (b.rows === 0 && (rae || !b.state)) {
      return { advantages: new Float32Array(0), keep: new Uint8Array(0), zeroVarianceGroups: 0, ...(b.state ? { state: b.state } : {}) };
    }
    const rows = bucket(b.rows, 8);
    const members = isStateful(this.spec) ? this.spec.numKeys : bucket(b.numMembers, 1);
    const session = await this.session(rows, members);
    const out = await runSession(session, feeds(b, rows, members));
    const advantages = (out.advantages!.data as Float32Array).slice(0, b.rows);
    const state = b.state ? { state: (out.state_out!.data as Float32Array).slice() } : {};
    if (rae) return { advantages, keep: new Uint8Array(b.rows).fill(1), zeroVarianceGroups: 0, ...state };
    const keepOut = out.keep!.data;
    const keep = new Uint8Array(b.rows);
    for (let i = 0; i < b.rows; i++) keep[i] = keepOut[i] ? 1 : 0;
    return { advantages, keep, zeroVarianceGroups: Math.round(Number(out.zero_variance_groups!.data[0])), ...state };
  }

  /**
   * Waits for running computes, then releases every cached session. Idempotent; compute()
   * afterwards throws ESTIMATOR_CLOSED.
   */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      const pending = [...this.sessions.values()];
      this.sessions.clear();
      const settled = await Promise.allSettled(pending);
      for (const s of settled) if (s.status === 'fulfilled') await s.value.release();
    })();
    return this.closing;
  }

  private session(rows: number, members: number): Promise<InferenceSession> {
    const key = `${rows}x${members}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = createSession(serialize(this.graph(rows, members), { name: `estimator_${this.spec.kind}` }), this.runtime);
      this.sessions.set(key, s);
      // A failed compile is not cached; the next call retries.
      s.catch(() => { if (this.sessions.get(key) === s) this.sessions.delete(key); });
    }
    return s;
  }

  private graph(rows: number, members: number): Graph {
    const s = this.spec;
    if (s.kind === 'rae') return buildRaeGraph({ decay: s.decay, rows, keys: members });
    if (isStateful(s)) return buildRunningWhitenGraph({ decay: s.decay, eps: s.eps, drop: s.zeroVariance === 'drop', rows, keys: members });
    return buildGroupedGraph({ mode: MODE[s.kind], eps: s.eps, drop: s.zeroVariance === 'drop', rows, groups: members });
  }
}

/** Zero-padded feeds for a bucket: rows >= b.rows, members >= b.numMembers. */
export function feeds(b: PreparedBatch, rows: number, members: number): Record<string, TensorData> {
  const rewards = new Float32Array(rows);
  rewards.set(b.rewards);
  const valid = new Float32Array(rows);
  valid.fill(1, 0, b.rows);
  const f: Record<string, TensorData> = {
    rewards: { dtype: 'float32', shape: [rows], data: rewards },
    valid: { dtype: 'float32', shape: [rows], data: valid },
  };
  if (b.byKey) {
    // rae: the key index of each row (a tabular baseline can have thousands of keys; no one-hot).
    const key = new BigInt64Array(rows);
    for (let i = 0; i < b.rows; i++) key[i] = BigInt(b.member[i]!);
    f.key = { dtype: 'int64', shape: [rows], data: key };
  } else {
    const member = new Float32Array(rows * members);
    for (let i = 0; i < b.rows; i++) member[i * members + b.member[i]!] = 1;
    f.member = { dtype: 'float32', shape: [rows, members], data: member };
  }
  if (b.state) f.state = { dtype: 'float32', shape: [b.state.length], data: b.state };
  return f;
}
