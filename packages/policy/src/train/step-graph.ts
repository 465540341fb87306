import { gradients } from '../graph/autodiff.ts';
import { countFlops } from '../graph/flops.ts';
import { Graph } from '../graph/graph.ts';
import type { FloatType, Value } from '../graph/types.ts';
import type { ModelConfig } from '../model/config.ts';
import { trainableSpecs, type ParamSpec } from '../model/params.ts';
import { declareParams, forward, tokenLogprobs } from '../model/transformer.ts';
import { buildLoss, type LossConfig, type LossOutputs } from './loss.ts';
import { buildAdamW, type OptimizerConfig } from './optimizer.ts';

export interface StepShape {
  readonly batch: number;
  readonly length: number;
  /** Feed reference log-probs (KL term). */
  readonly withRef: boolean;
  /**
   * Feed an additive `logitMask` [B,T,V] (constrained decoding's allowed sets). Without it the
   * graph has no [B,T,V] input at all; with it the graph is the one every step used before the
   * flag existed, byte for byte.
   */
  readonly masked?: boolean;
  /**
   * One micro-batch of an accumulated step: scalar inputs `normTokens` and `normRows` carry the
   * whole batch's denominators, so the loss, metrics and gradients are this part's share.
   */
  readonly partial?: boolean;
}

export const METRIC_OUTPUTS = ['loss', 'pgLoss', 'kl', 'entropy', 'clipFrac', 'gradNorm'] as const;

export interface LossGraph {
  readonly g: Graph;
  /** The parameters trained (every parameter, or with LoRA the adapters) and their graph inputs. */
  readonly specs: ParamSpec[];
  readonly params: Value[];
  readonly out: LossOutputs;
}

/** Forward + loss over a padded batch [B,T]: inputs ids, targets (int64), mask, advantages, oldLogp[, refLogp][, logitMask][, normTokens, normRows]. */
export function buildLossGraph(c: ModelConfig, loss: LossConfig, shape: StepShape, floatType: FloatType): LossGraph {
  const g = new Graph(floatType);
  const specs = trainableSpecs(c);
  const pmap = declareParams(g, c);
  const { batch: b, length: t } = shape;
  const ids = g.input('ids', 'int64', [b, t]);
  const targets = g.input('targets', 'int64', [b, t]);
  const mask = g.input('mask', floatType, [b, t]);
  const advantages = g.input('advantages', floatType, [b, t]);
  const oldLogp = g.input('oldLogp', floatType, [b, t]);
  const refLogp = shape.withRef ? g.input('refLogp', floatType, [b, t]) : undefined;
  // Additive logit mask [B,T,V]: 0 where allowed, a large negative number where constrained decoding forbade the token.
  const logitMask = shape.masked ? g.input('logitMask', floatType, [b, t, c.vocabSize]) : undefined;
  const full = forward(g, c, pmap, ids).logits;
  const logits = logitMask ? g.add(full, logitMask) : full;
  const { logp, logSoftmax } = tokenLogprobs(g, logits, targets);
  const norm = shape.partial ? { tokens: g.input('normTokens', floatType, []), rows: g.input('normRows', floatType, []) } : undefined;
  const out = buildLoss(g, loss, { logp, logSoftmax, mask, advantages, oldLogp, refLogp, norm }, c.context);
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
  outputLossMetrics(g, out);
  outputUpdate(g, specs, upd);
  return { graph: g, flops: countFlops(g) };
}

/** The loss metrics an accumulated step sums over its micro-batches. */
export const PARTIAL_METRICS = ['loss', 'pgLoss', 'kl', 'entropy', 'clipFrac'] as const;

function outputLossMetrics(g: Graph, out: LossOutputs): void {
  for (const k of PARTIAL_METRICS) g.output(out[k], k);
}

function outputUpdate(g: Graph, specs: readonly ParamSpec[], upd: ReturnType<typeof buildAdamW>): void {
  g.output(upd.gradNorm, 'gradNorm');
  specs.forEach((s, i) => {
    g.output(upd.params[i]!, `out:${s.name}`);
    g.output(upd.m[i]!, `out_m:${s.name}`);
    g.output(upd.v[i]!, `out_v:${s.name}`);
  });
}

/**
 * One micro-batch of an accumulated step: forward, loss (its share of the whole batch, see
 * StepShape.partial) and backward. Outputs the loss metrics' shares and `grad:<name>`; the
 * shares of every micro-batch add up to the whole batch's loss, metrics and gradients.
 */
export function buildGradGraph(c: ModelConfig, loss: LossConfig, shape: Omit<StepShape, 'partial'>): TrainGraph {
  const { g, specs, params, out } = buildLossGraph(c, loss, { ...shape, partial: true }, 'float32');
  const grads = gradients(g, out.loss, params);
  outputLossMetrics(g, out);
  specs.forEach((s, i) => g.output(grads[i]!, `grad:${s.name}`));
  return { graph: g, flops: countFlops(g) };
}

/**
 * The update of an accumulated step: global-norm clipping and AdamW on summed gradients.
 * Inputs: the trained parameters, `grad:<name>`, `m:<name>`, `v:<name>`, lr, bc1, bc2; outputs as the
 * fused train graph's (gradNorm, `out:`, `out_m:`, `out_v:`).
 */
export function buildApplyGraph(c: ModelConfig, opt: OptimizerConfig): Graph {
  const g = new Graph('float32');
  const specs = trainableSpecs(c);
  const params = specs.map((s) => g.input(s.name, 'float32', s.shape));
  const grads = specs.map((s) => g.input(`grad:${s.name}`, 'float32', s.shape));
  const m = specs.map((s) => g.input(`m:${s.name}`, 'float32', s.shape));
  const v = specs.map((s) => g.input(`v:${s.name}`, 'float32', s.shape));
  const lr = g.input('lr', 'float32', []);
  const bc1 = g.input('bc1', 'float32', []);
  const bc2 = g.input('bc2', 'float32', []);
  outputUpdate(g, specs, buildAdamW(g, opt, specs, params, grads, m, v, { lr, bc1, bc2 }));
  return g;
}
