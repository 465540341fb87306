import { gradients } from '../graph/autodiff.ts';
import { countFlops } from '../graph/flops.ts';
import { Graph } from '../graph/graph.ts';
import type { FloatType, Value } from '../graph/types.ts';
import type { ModelConfig } from '../model/config.ts';
import { paramSpecs, type ParamSpec } from '../model/params.ts';
import { declareParams, forward, tokenLogprobs } from '../model/transformer.ts';
import { buildLoss, type LossConfig, type LossOutputs } from './loss.ts';
import { buildAdamW, type OptimizerConfig } from './optimizer.ts';

export interface StepShape {
  readonly batch: number;
  readonly length: number;
  /** Feed reference log-probs (KL term). */
  readonly withRef: boolean;
}

export const METRIC_OUTPUTS = ['loss', 'pgLoss', 'kl', 'entropy', 'clipFrac', 'gradNorm'] as const;

export interface LossGraph {
  readonly g: Graph;
  readonly specs: ParamSpec[];
  readonly params: Value[];
  readonly out: LossOutputs;
}

/** Forward + loss over a padded batch [B,T]: inputs ids, targets (int64), mask, advantages, oldLogp, logitMask[, refLogp]. */
export function buildLossGraph(c: ModelConfig, loss: LossConfig, shape: StepShape, floatType: FloatType): LossGraph {
  const g = new Graph(floatType);
  const specs = paramSpecs(c);
  const pmap = declareParams(g, c);
  const { batch: b, length: t } = shape;
  const ids = g.input('ids', 'int64', [b, t]);
  const targets = g.input('targets', 'int64', [b, t]);
  const mask = g.input('mask', floatType, [b, t]);
  const advantages = g.input('advantages', floatType, [b, t]);
  const oldLogp = g.input('oldLogp', floatType, [b, t]);
  const refLogp = shape.withRef ? g.input('refLogp', floatType, [b, t]) : undefined;
  // Additive logit mask [B,T,V]: 0 where allowed, a large negative number where constrained decoding forbade the token.
  const logitMask = g.input('logitMask', floatType, [b, t, c.vocabSize]);
  const logits = g.add(forward(g, c, pmap, ids).logits, logitMask);
  const { logp, logSoftmax } = tokenLogprobs(g, logits, targets);
  const out = buildLoss(g, loss, { logp, logSoftmax, mask, advantages, oldLogp, refLogp }, c.context);
  return { g, specs, params: specs.map((s) => pmap.get(s.name)!), out };
}

export interface TrainGraph {
  readonly graph: Graph;
  readonly flops: { total: number; matmul: number };
}

/**
 * One whole learner step as a single graph: forward, loss, backward, global-norm clipping and
 * AdamW. Extra inputs: `m:<name>`, `v:<name>` moments and scalars lr, bc1, bc2. Outputs: metrics,
 * `out:<name>`, `out_m:<name>`, `out_v:<name>`.
 */
export function buildTrainGraph(c: ModelConfig, loss: LossConfig, opt: OptimizerConfig, shape: StepShape): TrainGraph {
  const { g, specs, params, out } = buildLossGraph(c, loss, shape, 'float32');
  const grads = gradients(g, out.loss, params);
  const m = specs.map((s) => g.input(`m:${s.name}`, 'float32', s.shape));
  const v = specs.map((s) => g.input(`v:${s.name}`, 'float32', s.shape));
  const lr = g.input('lr', 'float32', []);
  const bc1 = g.input('bc1', 'float32', []);
  const bc2 = g.input('bc2', 'float32', []);
  const upd = buildAdamW(g, opt, specs, params, grads, m, v, { lr, bc1, bc2 });
  g.output(out.loss, 'loss');
  g.output(out.pgLoss, 'pgLoss');
  g.output(out.kl, 'kl');
  g.output(out.entropy, 'entropy');
  g.output(out.clipFrac, 'clipFrac');
  g.output(upd.gradNorm, 'gradNorm');
  specs.forEach((s, i) => {
    g.output(upd.params[i]!, `out:${s.name}`);
    g.output(upd.m[i]!, `out_m:${s.name}`);
    g.output(upd.v[i]!, `out_v:${s.name}`);
  });
  return { graph: g, flops: countFlops(g) };
}
