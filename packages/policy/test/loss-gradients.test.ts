import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseModelConfig } from '../src/model/config.ts';
import { parseLossConfig } from '../src/train/loss.ts';
import { buildLossGraph } from '../src/train/step-graph.ts';
import type { TensorData } from '../src/graph/types.ts';
import { gradcheckGraph, randomFeeds, rng } from './gradcheck.ts';

const B = 3;
const T = 5;

function fixedFeeds(vocab: number, seed: number): Record<string, TensorData> {
  const r = rng(seed);
  const ints = (n: number) => BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * vocab)));
  const mask = Float64Array.from({ length: B * T }, (_, i) => (i >= 2 * T ? 0 : r() < 0.7 ? 1 : 0)); // last row empty
  mask[0] = 1;
  return {
    ids: { dtype: 'int64', shape: [B, T], data: ints(B * T) },
    targets: { dtype: 'int64', shape: [B, T], data: ints(B * T) },
    mask: { dtype: 'float64', shape: [B, T], data: mask },
    advantages: { dtype: 'float64', shape: [B, T], data: Float64Array.from({ length: B * T }, () => r() * 2 - 1) },
    oldLogp: { dtype: 'float64', shape: [B, T], data: Float64Array.from({ length: B * T }, () => -Math.log(vocab) + (r() - 0.5) * 0.6) },
    refLogp: { dtype: 'float64', shape: [B, T], data: Float64Array.from({ length: B * T }, () => -Math.log(vocab) + (r() - 0.5) * 0.6) },
  };
}

const model = { vocabSize: 7, layers: 1, dModel: 8, heads: 2, ffn: 12, context: 8, seed: 3 };
// The fourth element: feed a logit mask (constrained decoding) input.
const variants: [string, object, object, boolean?][] = [
  ['ppo token-mean (rotary, gelu)', model, { kind: 'ppo' }],
  ['ppo seq-mean-token-mean', model, { aggregation: 'seq-mean-token-mean' }],
  ['ppo seq-mean-token-sum', model, { aggregation: 'seq-mean-token-sum' }],
  ['ppo seq-mean-token-sum-norm', model, { aggregation: 'seq-mean-token-sum-norm' }],
  ['ppo clip-higher + dual-clip', model, { clipLow: 0.1, clipHigh: 0.28, dualClip: 3 }],
  ['ppo + k3 KL + entropy', model, { klCoef: 0.5, entropyCoef: 0.3 }],
  ['sft cross-entropy', model, { kind: 'sft' }],
  ['ppo, learned positions, swiglu, tied, 2 layers', { ...model, positions: 'learned', activation: 'swiglu', tieEmbeddings: true, layers: 2 }, { entropyCoef: 0.1 }],
  ['ppo + entropy with a logit mask', model, { entropyCoef: 0.2 }, true],
  // A vocabulary above ONEHOT_GATHER_MAX_ROWS: the embedding's gradient is a scatter-add, summed
  // with the tied head's.
  ['ppo, tied embeddings, vocabulary 300 (scatter-add embedding gradient)', { ...model, vocabSize: 300, dModel: 4, heads: 1, ffn: 6, tieEmbeddings: true }, { entropyCoef: 0.1 }],
];

for (const [name, mc, lc, masked] of variants) {
  test(`full loss gradient (float64 finite differences): ${name}`, async () => {
    const c = parseModelConfig(mc);
    const loss = parseLossConfig(lc);
    const withRef = loss.klCoef > 0;
    const { g, params, out } = buildLossGraph(c, loss, { batch: B, length: T, withRef, masked }, 'float64');
    const feeds = fixedFeeds(c.vocabSize, 11);
    if (!withRef) delete (feeds as Record<string, unknown>).refLogp;
    const res = await gradcheckGraph(g, params, out.loss, randomFeeds(5, feeds, 0.5));
    assert.ok(res.checked > 400, `checked only ${res.checked}`);
    assert.ok(res.maxRelError <= 1e-5, `max relative error ${res.maxRelError}`);
  });
}
