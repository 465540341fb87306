import { Type, type Static } from '@sinclair/typebox';
import type { Graph } from '../graph/graph.ts';
import type { Value } from '../graph/types.ts';
import type { ParamSpec } from '../model/params.ts';
import { parseConfig } from '../validate.ts';

export const OptimizerConfigSchema = Type.Object({
  lr: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 3e-4 }),
  beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
  beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 }),
  eps: Type.Number({ exclusiveMinimum: 0, default: 1e-8 }),
  weightDecay: Type.Number({ minimum: 0, default: 0, description: 'decoupled (AdamW) decay on matrices' }),
  maxGradNorm: Type.Number({ minimum: 0, default: 1, description: 'global-norm clip; 0 = off' }),
  warmupSteps: Type.Integer({ minimum: 0, default: 0, description: 'linear learning-rate warm-up' }),
  // No default on purpose: a config that does not name it parses to the same object as before.
  microBatchTokens: Type.Optional(Type.Integer({
    minimum: 1,
    description: 'most padded tokens (rows × padded length) one graph run of a step holds: a larger batch runs as micro-batches whose gradients are summed before one update (absent: one run, or two when a length split pays)',
  })),
}, { additionalProperties: false });

export type OptimizerConfig = Static<typeof OptimizerConfigSchema>;
export const parseOptimizerConfig = (x: unknown): OptimizerConfig => parseConfig(OptimizerConfigSchema, x, 'optimizer config');

export interface AdamWInputs {
  /** Learning rate for this step (scalar). */
  readonly lr: Value;
  /** 1 / (1 − β1^t) and 1 / (1 − β2^t) for this step (scalars). */
  readonly bc1: Value;
  readonly bc2: Value;
}

export interface AdamWOutputs {
  readonly params: Value[];
  readonly m: Value[];
  readonly v: Value[];
  /** Global L2 norm of the gradients before clipping. */
  readonly gradNorm: Value;
}

/** Global-norm clipping and one AdamW update, as graph ops. */
export function buildAdamW(
  g: Graph, cfg: OptimizerConfig, specs: readonly ParamSpec[], params: readonly Value[], grads: readonly Value[],
  m: readonly Value[], v: readonly Value[], inp: AdamWInputs,
): AdamWOutputs {
  let sq: Value | undefined;
  for (const d of grads) {
    const s = g.sumAll(g.mul(d, d));
    sq = sq ? g.add(sq, s) : s;
  }
  const gradNorm = g.sqrt(sq!);
  const scale = cfg.maxGradNorm > 0 ? g.min(g.div(cfg.maxGradNorm, g.add(gradNorm, 1e-6)), 1) : undefined;
  const out: AdamWOutputs = { params: [], m: [], v: [], gradNorm };
  const stepSize = g.mul(inp.lr, inp.bc1);
  params.forEach((p, i) => {
    const d = scale ? g.mul(grads[i]!, scale) : grads[i]!;
    const m1 = g.add(g.mul(m[i]!, cfg.beta1), g.mul(d, 1 - cfg.beta1));
    const v1 = g.add(g.mul(v[i]!, cfg.beta2), g.mul(g.mul(d, d), 1 - cfg.beta2));
    const denom = g.add(g.sqrt(g.mul(v1, inp.bc2)), cfg.eps);
    let p1 = g.sub(p, g.mul(g.div(m1, denom), stepSize));
    if (cfg.weightDecay > 0 && specs[i]!.decay) p1 = g.sub(p1, g.mul(p, g.mul(inp.lr, cfg.weightDecay)));
    out.params.push(p1);
    out.m.push(m1);
    out.v.push(v1);
  });
  return out;
}
