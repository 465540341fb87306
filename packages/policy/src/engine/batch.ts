import { NonFiniteError, ShapeError } from '../errors.ts';
import type { TensorData } from '../graph/types.ts';
import type { ModelConfig } from '../model/config.ts';
import { rowBucket, stepBucket } from './sessions.ts';

/** One training sequence. Per-token arrays are aligned with `tokens` (index i is about token i). */
export interface TrainSample {
  /** Full sequence: prompt followed by the response. */
  readonly tokens: ArrayLike<number>;
  /** 1 where token i is trained (response tokens), 0 elsewhere. Index 0 is never trained. */
  readonly mask: ArrayLike<number>;
  /** Advantage of the whole sequence, or one per token. Ignored by the SFT loss. */
  readonly advantage?: number | ArrayLike<number>;
  /** Behaviour log-probs of each token (PPO importance ratio); default = current policy (on-policy). */
  readonly logprobs?: ArrayLike<number>;
  /** Reference-policy log-probs of each token (KL term). */
  readonly refLogprobs?: ArrayLike<number>;
  /**
   * Constrained decoding: the token ids that were allowed when token i was generated
   * (undefined/null = unconstrained). The loss then uses the model restricted to that set, the
   * same distribution the behaviour log-probs came from.
   */
  readonly allowed?: ArrayLike<readonly number[] | null | undefined>;
}

export const LENGTH_STEP = 16;
/** Added to the logits of disallowed tokens (exp underflows to exactly 0). */
export const MASKED = -1e9;

/** One position's additive logit mask: 0 on the allowed ids (validated by the caller), MASKED elsewhere. */
export function maskRow(row: Float32Array, allowed: readonly number[]): void {
  row.fill(MASKED);
  for (const id of allowed) row[id] = 0;
}

/** Per sequence, per token index: the ids that token was constrained to (null: unconstrained). */
export type AllowedSets = readonly (ArrayLike<readonly number[] | null | undefined> | null | undefined)[];

export function checkFinite(field: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new NonFiniteError(field, i);
}

export function checkTokens(field: string, tokens: ArrayLike<number>, c: ModelConfig, maxLen = c.context): void {
  if (tokens.length < 1) throw new ShapeError(field, 'empty sequence');
  if (tokens.length > maxLen) throw new ShapeError(field, `length ${tokens.length} exceeds ${maxLen}`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new ShapeError(`${field}[${i}]`, `token id ${t} outside [0, ${c.vocabSize})`);
  }
}

export interface PackedBatch {
  readonly batch: number;
  readonly length: number;
  readonly feeds: Record<string, TensorData>;
  readonly tokens: number;
  /** Whether any sample constrained a position (then `feeds.logitMask` [B,T,V] exists). */
  readonly masked: boolean;
  /** Whether any sample lacked behaviour log-probs (filled by scoring first). */
  readonly needsBehaviour: boolean[];
}

/**
 * Pack samples into padded [B,T] feeds: position t predicts token t+1. Rows are padded to a
 * rowBucket and columns to a multiple of LENGTH_STEP; padding is masked out. The [B,T,V]
 * `logitMask` is built only when some sample has an allowed set on a position it predicts.
 */
export function packTrainBatch(samples: readonly TrainSample[], c: ModelConfig, withRef: boolean, minBatch = 1): PackedBatch {
  if (samples.length === 0) throw new ShapeError('samples', 'empty batch');
  let maxLen = 0;
  samples.forEach((s, i) => {
    checkTokens(`samples[${i}].tokens`, s.tokens, c);
    if (s.tokens.length < 2) throw new ShapeError(`samples[${i}].tokens`, 'need at least 2 tokens');
    if (s.mask.length !== s.tokens.length) throw new ShapeError(`samples[${i}].mask`, `length ${s.mask.length} != tokens ${s.tokens.length}`);
    checkFinite(`samples[${i}].mask`, s.mask);
    if (typeof s.advantage === 'number') checkFinite(`samples[${i}].advantage`, [s.advantage]);
    else if (s.advantage) {
      if (s.advantage.length !== s.tokens.length) throw new ShapeError(`samples[${i}].advantage`, 'per-token advantages must align with tokens');
      checkFinite(`samples[${i}].advantage`, s.advantage);
    }
    for (const k of ['logprobs', 'refLogprobs'] as const) {
      const a = s[k];
      if (!a) continue;
      if (a.length !== s.tokens.length) throw new ShapeError(`samples[${i}].${k}`, `length ${a.length} != tokens ${s.tokens.length}`);
      for (let j = 1; j < a.length; j++) if (s.mask[j] && !Number.isFinite(a[j]!)) throw new NonFiniteError(`samples[${i}].${k}`, j);
    }
    if (s.allowed) {
      if (s.allowed.length !== s.tokens.length) throw new ShapeError(`samples[${i}].allowed`, `length ${s.allowed.length} != tokens ${s.tokens.length}`);
      for (let j = 1; j < s.tokens.length; j++) {
        const a = s.allowed[j];
        if (!a) continue;
        if (!a.every((id) => Number.isInteger(id) && id >= 0 && id < c.vocabSize)) throw new ShapeError(`samples[${i}].allowed[${j}]`, 'token id out of range');
        if (s.mask[j] && !a.includes(s.tokens[j]!)) throw new ShapeError(`samples[${i}].allowed[${j}]`, `token ${s.tokens[j]} is not in its allowed set`);
      }
    }
    if (withRef && !s.refLogprobs) throw new ShapeError(`samples[${i}].refLogprobs`, 'required when klCoef > 0');
    maxLen = Math.max(maxLen, s.tokens.length - 1);
  });
  const B = rowBucket(samples.length, minBatch);
  const T = stepBucket(maxLen, LENGTH_STEP, c.context);
  const n = B * T;
  const ids = new BigInt64Array(n);
  const targets = new BigInt64Array(n);
  const mask = new Float32Array(n);
  const adv = new Float32Array(n);
  const old = new Float32Array(n);
  const ref = new Float32Array(n);
  const V = c.vocabSize;
  const masked = samples.some((s) => hasAllowedSet(s));
  const logitMask = masked ? new Float32Array(n * V) : undefined;
  let tokens = 0;
  samples.forEach((s, r) => {
    const len = s.tokens.length - 1;
    for (let t = 0; t < len; t++) {
      const o = r * T + t;
      ids[o] = BigInt(s.tokens[t]!);
      targets[o] = BigInt(s.tokens[t + 1]!);
      const m = s.mask[t + 1]!;
      mask[o] = m;
      if (m) tokens++;
      adv[o] = typeof s.advantage === 'number' ? s.advantage : s.advantage ? s.advantage[t + 1]! : 0;
      old[o] = s.logprobs ? s.logprobs[t + 1]! : 0;
      ref[o] = s.refLogprobs ? s.refLogprobs[t + 1]! : 0;
      const allowed = s.allowed?.[t + 1];
      if (allowed && logitMask) maskRow(logitMask.subarray(o * V, (o + 1) * V), allowed);
    }
  });
  const f = (data: Float32Array): TensorData => ({ dtype: 'float32', shape: [B, T], data });
  const feeds: Record<string, TensorData> = {
    ids: { dtype: 'int64', shape: [B, T], data: ids },
    targets: { dtype: 'int64', shape: [B, T], data: targets },
    mask: f(mask), advantages: f(adv), oldLogp: f(old),
  };
  if (logitMask) feeds.logitMask = { dtype: 'float32', shape: [B, T, V], data: logitMask };
  if (withRef) feeds.refLogp = f(ref);
  return { batch: B, length: T, feeds, tokens, masked, needsBehaviour: samples.map((s) => !s.logprobs) };
}

/** Whether a sample constrains any position it is trained to predict (tokens 1…). */
function hasAllowedSet(s: TrainSample): boolean {
  if (!s.allowed) return false;
  for (let j = 1; j < s.tokens.length; j++) if (s.allowed[j]) return true;
  return false;
}
