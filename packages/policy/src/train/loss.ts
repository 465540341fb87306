import { Type, type Static } from '@sinclair/typebox';
import type { Graph } from '../graph/graph.ts';
import type { Value } from '../graph/types.ts';
import { parseConfig } from '../validate.ts';

export const AggregationSchema = Type.Union([
  Type.Literal('token-mean'), Type.Literal('seq-mean-token-mean'),
  Type.Literal('seq-mean-token-sum'), Type.Literal('seq-mean-token-sum-norm'),
], { default: 'token-mean' });

export const LossConfigSchema = Type.Object({
  kind: Type.Union([Type.Literal('ppo'), Type.Literal('sft')], { default: 'ppo', description: 'ppo: clipped policy gradient; sft: cross-entropy (warm start)' }),
  clipLow: Type.Number({ minimum: 0, maximum: 1, default: 0.2, description: 'ratio lower bound 1 - clipLow' }),
  clipHigh: Type.Number({ minimum: 0, maximum: 10, default: 0.2, description: 'ratio upper bound 1 + clipHigh (DAPO clip-higher: 0.28)' }),
  dualClip: Type.Number({ minimum: 0, default: 0, description: 'dual-clip constant c > 1 for negative advantages; 0 = off' }),
  aggregation: AggregationSchema,
  normLength: Type.Integer({ minimum: 0, default: 0, description: 'K for seq-mean-token-sum-norm (0 = model context)' }),
  klCoef: Type.Number({ minimum: 0, default: 0, description: 'weight of the k3 KL to the reference policy' }),
  entropyCoef: Type.Number({ minimum: 0, default: 0, description: 'weight of the entropy bonus' }),
}, { additionalProperties: false });

export type LossConfig = Static<typeof LossConfigSchema>;
export const parseLossConfig = (x: unknown): LossConfig => parseConfig(LossConfigSchema, x, 'loss config');

export interface LossInputs {
  /** log p(target) per position [B,T] under the current parameters. */
  readonly logp: Value;
  /** log-softmax [B,T,V] (for the entropy term). */
  readonly logSoftmax: Value;
  /** 1 on trained positions [B,T]. */
  readonly mask: Value;
  /** Advantage per position [B,T] (ppo). */
  readonly advantages: Value;
  /** Behaviour log-probs [B,T] (ppo importance ratio). */
  readonly oldLogp: Value;
  /** Reference log-probs [B,T] (when klCoef > 0). */
  readonly refLogp?: Value;
  /**
   * Denominators of the whole learner batch when this graph sees only part of it (one micro-batch
   * of an accumulated step): trained tokens, and rows with at least one. The loss and metrics are
   * then this part's share, and the shares of all parts add up to the whole batch's values.
   */
  readonly norm?: BatchNorm;
}

/** Scalars [] of the whole batch: trained tokens and rows with a trained token. */
export interface BatchNorm {
  readonly tokens: Value;
  readonly rows: Value;
}

export interface LossOutputs {
  readonly loss: Value;
  readonly pgLoss: Value;
  readonly kl: Value;
  readonly entropy: Value;
  readonly clipFrac: Value;
}

/**
 * Aggregate per-token values x [B,T] under mask m [B,T] into a scalar. With `norm`, the means
 * divide by the whole batch's tokens or rows instead of this graph's (a micro-batch's share).
 */
export function aggregate(g: Graph, mode: LossConfig['aggregation'], x: Value, m: Value, normLength: number, norm?: BatchNorm): Value {
  const xm = g.mul(x, m);
  switch (mode) {
    case 'token-mean':
      return g.div(g.sumAll(xm), g.max(norm?.tokens ?? g.sumAll(m), 1));
    case 'seq-mean-token-sum-norm':
      return g.div(g.sumAll(xm), normLength);
    case 'seq-mean-token-mean':
    case 'seq-mean-token-sum': {
      const rowTokens = g.reduceSum(m, [1]);
      let rows = g.reduceSum(xm, [1]);
      if (mode === 'seq-mean-token-mean') rows = g.div(rows, g.add(rowTokens, 1e-8));
      const nonEmpty = norm?.rows ?? g.sumAll(g.cast(g.greater(rowTokens, 0), g.floatType));
      return g.div(g.sumAll(rows), g.max(nonEmpty, 1));
    }
  }
}

/** Build the scalar training loss and its metrics (metrics are token means, gradient-free). */
export function buildLoss(g: Graph, cfg: LossConfig, inp: LossInputs, normLength: number): LossOutputs {
  const agg = (x: Value) => aggregate(g, cfg.aggregation, x, inp.mask, cfg.normLength || normLength, inp.norm);
  const tokenMean = (x: Value) => aggregate(g, 'token-mean', g.stopGradient(x), inp.mask, 1, inp.norm);
  const zero = g.scalar(0);
  let pgLoss: Value;
  let clipFrac: Value = zero;
  if (cfg.kind === 'sft') {
    pgLoss = agg(g.neg(inp.logp));
  } else {
    const a = inp.advantages;
    const ratio = g.exp(g.clip(g.sub(inp.logp, inp.oldLogp), -20, 20));
    const l1 = g.neg(g.mul(a, ratio));
    const l2 = g.neg(g.mul(a, g.clip(ratio, 1 - cfg.clipLow, 1 + cfg.clipHigh)));
    let per = g.max(l1, l2);
    if (cfg.dualClip > 1) per = g.where(g.less(a, 0), g.min(per, g.neg(g.mul(a, cfg.dualClip))), per);
    pgLoss = agg(per);
    clipFrac = tokenMean(g.cast(g.greater(l2, l1), g.floatType));
  }
  let loss = pgLoss;
  // Entropy per position: -Σ p log p.
  const ent = g.neg(g.reduceSum(g.mul(g.exp(inp.logSoftmax), inp.logSoftmax), [-1]));
  if (cfg.entropyCoef > 0) loss = g.sub(loss, g.mul(agg(ent), cfg.entropyCoef));
  let kl: Value = zero;
  if (inp.refLogp) {
    // k3 (low-variance) estimator of KL(π‖π_ref): e^x − x − 1 with x = ref − logp (clipped exponent).
    // Unlike verl's low_var_kl we do not clamp k3 at 10: that clamp silences gradients (verl #2928).
    const x = g.clip(g.sub(inp.refLogp, inp.logp), -20, 20);
    const k3 = g.sub(g.sub(g.exp(x), x), 1);
    if (cfg.klCoef > 0) loss = g.add(loss, g.mul(agg(k3), cfg.klCoef));
    kl = tokenMean(k3);
  }
  return { loss, pgLoss, kl, entropy: tokenMean(ent), clipFrac };
}
