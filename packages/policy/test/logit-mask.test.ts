import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packTrainBatch, type TrainSample } from '../src/engine/batch.ts';
import { EngineCore } from '../src/engine/core.ts';
import { parseModelConfig } from '../src/model/config.ts';
import { paramSpecs } from '../src/model/params.ts';
import { parseLossConfig } from '../src/train/loss.ts';
import { parseOptimizerConfig } from '../src/train/optimizer.ts';
import { buildTrainGraph } from '../src/train/step-graph.ts';
import { rng } from './gradcheck.ts';

const model = parseModelConfig({ vocabSize: 13, layers: 1, dModel: 16, heads: 2, context: 32, seed: 4 });

function batch(seed: number): (TrainSample & { tokens: number[] })[] {
  const r = rng(seed);
  return Array.from({ length: 6 }, (_, i) => {
    const n = 5 + i;
    const tokens = Array.from({ length: n }, () => Math.floor(r() * model.vocabSize));
    return { tokens, mask: tokens.map((_, j) => (j >= 2 ? 1 : 0)), advantage: r() - 0.5, logprobs: tokens.map(() => -Math.log(model.vocabSize) + (r() - 0.5) * 0.2) };
  });
}

test('a batch without allowed sets gets no [B,T,V] logit mask; one allowed set on a predicted token brings it', () => {
  const plain = batch(1);
  const p = packTrainBatch(plain, model, false);
  assert.equal(p.masked, false);
  assert.equal(p.feeds.logitMask, undefined);
  // An allowed set on token 0 constrains nothing the batch predicts.
  assert.equal(packTrainBatch([{ ...plain[0]!, allowed: plain[0]!.tokens.map((_, j) => (j === 0 ? [1, 2] : null)) }, ...plain.slice(1)], model, false).masked, false);
  const s0 = plain[0]!;
  const constrained = packTrainBatch([{ ...s0, allowed: s0.tokens.map((t, j) => (j === 3 ? [t, (t + 1) % 13] : null)) }, ...plain.slice(1)], model, false);
  assert.equal(constrained.masked, true);
  assert.deepEqual(constrained.feeds.logitMask!.shape, [constrained.batch, constrained.length, model.vocabSize]);
  const inputs = (masked: boolean) => buildTrainGraph(model, parseLossConfig({}), parseOptimizerConfig({}), { batch: 8, length: 16, withRef: false, masked }).graph.inputs.map((v) => v.name);
  assert.ok(!inputs(false).includes('logitMask'));
  assert.ok(inputs(true).includes('logitMask'));
});

test('the unmasked train graph steps exactly as the masked one does under all-allowed sets', async () => {
  const loss = parseLossConfig({ entropyCoef: 0.05 });
  const opt = parseOptimizerConfig({ lr: 1e-2 });
  const [a, b] = [new EngineCore(model, {}), new EngineCore(model, {})];
  try {
    a.configureTraining(loss, opt);
    b.configureTraining(loss, opt);
    const plain = batch(2);
    const everything = [...Array(model.vocabSize).keys()];
    const allAllowed = plain.map((s) => ({ ...s, allowed: s.tokens.map(() => everything) }));
    assert.equal(packTrainBatch(allAllowed, model, false).masked, true);
    for (let step = 0; step < 3; step++) {
      const [ma, mb] = [await a.trainStep(plain), await b.trainStep(allAllowed)];
      for (const k of ['loss', 'pgLoss', 'entropy', 'clipFrac', 'gradNorm'] as const) assert.ok(Math.abs(ma[k] - mb[k]) <= 1e-6 * Math.max(1, Math.abs(mb[k])), `step ${step} ${k}: ${ma[k]} vs ${mb[k]}`);
    }
    const [pa, pb] = [a.getState().params, b.getState().params];
    for (const p of paramSpecs(model)) {
      let maxGap = 0;
      for (let i = 0; i < pa[p.name]!.length; i++) maxGap = Math.max(maxGap, Math.abs(pa[p.name]![i]! - pb[p.name]![i]!));
      assert.ok(maxGap <= 1e-6, `${p.name}: ${maxGap}`);
    }
  } finally {
    await a.close();
    await b.close();
  }
});
