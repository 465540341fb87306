import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineCore, SCORE_LOGIT_CELLS } from '../src/engine/core.ts';
import type { TrainSample } from '../src/engine/batch.ts';
import { batchTotals, paddedCells, splitByBudget, splitByLength } from '../src/engine/split.ts';
import { parseModelConfig } from '../src/model/config.ts';
import { paramSpecs } from '../src/model/params.ts';
import { parseLossConfig } from '../src/train/loss.ts';
import { parseOptimizerConfig } from '../src/train/optimizer.ts';
import { rng } from './gradcheck.ts';

test('splitByLength: a few long rows among many short ones split off; uniform or small batches stay whole', () => {
  const mixed = [...Array(120).fill(30), ...Array(8).fill(120)];
  const parts = splitByLength(mixed, 128);
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0]!.map((i) => mixed[i]), Array(120).fill(30), 'the short rows first');
  assert.deepEqual(parts[1]!.map((i) => mixed[i]), Array(8).fill(120));
  assert.deepEqual([...parts[0]!, ...parts[1]!].sort((a, b) => a - b), [...mixed.keys()], 'every row once');
  assert.deepEqual(splitByLength(Array(128).fill(40), 128), [[...Array(128).keys()]], 'one length: one run');
  assert.equal(splitByLength([...Array(100).fill(40), ...Array(28).fill(50)], 128).length, 1, 'two close lengths: not worth a second run');
  assert.equal(splitByLength([5, 120], 128).length, 1, 'two rows: the extra run costs more than it saves');
  assert.deepEqual(batchTotals([[0, 1, 1, 0], [0, 0], [1, 0.5, 1]]), { tokens: 3.5, rows: 2 }, 'mask[0] is never trained');
});

test('splitByBudget: parts of at most the budget\'s padded cells, shortest rows first; a row over the budget alone', () => {
  const lengths = [...Array(40).fill(10), ...Array(12).fill(30), 60, 100];
  const parts = splitByBudget(lengths, 128, 128);
  assert.deepEqual(parts.flat().sort((a, b) => a - b), [...lengths.keys()], 'every row once');
  for (const p of parts.slice(0, -1)) {
    const longest = Math.max(...p.map((i) => lengths[i]!));
    assert.ok(paddedCells(p.length, longest, 128) <= 128, `part of ${p.length} rows up to ${longest}`);
  }
  assert.deepEqual(parts.at(-1)!.map((i) => lengths[i]), [100], 'a row of 112 padded positions, over the budget, alone');
  assert.deepEqual(parts.map((p) => p.length), [8, 8, 8, 8, 8, 4, 4, 4, 1, 1]);
  assert.deepEqual(splitByBudget(lengths, 128, 1 << 20), [[...lengths.keys()].sort((a, b) => lengths[a]! - lengths[b]! || a - b)], 'a large budget: one part');
});

const model = parseModelConfig({ vocabSize: 11, layers: 2, dModel: 16, heads: 2, context: 64, seed: 7 });

/** Rows of two lengths: 60 short (prompt 6, answer 4) and 4 long (prompt 50, answer 10), masks on the answers. */
function mixedBatch(seed: number, withRef: boolean): TrainSample[] {
  const r = rng(seed);
  const row = (prompt: number, answer: number): TrainSample => {
    const n = prompt + answer;
    const tokens = Array.from({ length: n }, () => Math.floor(r() * model.vocabSize));
    const mask = Array.from({ length: n }, (_, i) => (i >= prompt ? 1 : 0));
    const lp = () => Float32Array.from({ length: n }, () => -Math.log(model.vocabSize) + (r() - 0.5) * 0.5);
    return { tokens, mask, advantage: r() * 2 - 1, logprobs: lp(), ...(withRef ? { refLogprobs: lp() } : {}) };
  };
  return [...Array.from({ length: 60 }, () => row(6, 4)), ...Array.from({ length: 4 }, () => row(50, 10))];
}

for (const [name, lossCfg] of [
  ['ppo token-mean, clip-higher, entropy and k3 KL', { clipHigh: 0.28, entropyCoef: 0.01, klCoef: 0.1 }],
  ['ppo seq-mean-token-mean', { aggregation: 'seq-mean-token-mean' }],
  ['sft', { kind: 'sft' }],
] as const) {
  test(`an accumulated step (length-bucketed micro-batches) equals one whole-batch step: ${name}`, async () => {
    const loss = parseLossConfig(lossCfg);
    const opt = parseOptimizerConfig({ lr: 1e-3, maxGradNorm: 1e-3 });
    const engines = [new EngineCore(model, {}), new EngineCore(model, {})];
    try {
      for (const e of engines) e.configureTraining(loss, opt);
      const batch = mixedBatch(3, loss.klCoef > 0);
      assert.equal(splitByLength(batch.map((s) => s.tokens.length - 1), model.context).length, 2, 'the batch splits');
      for (let step = 0; step < 3; step++) {
        const [split, whole] = [await engines[0]!.trainStep(batch), await engines[1]!.trainStep(batch, false)];
        assert.equal(split.skipped, false);
        assert.equal(split.tokens, whole.tokens);
        assert.equal(split.step, whole.step);
        for (const k of ['loss', 'pgLoss', 'kl', 'entropy', 'clipFrac'] as const) {
          assert.ok(Math.abs(split[k] - whole[k]) <= 1e-5 * Math.max(1, Math.abs(whole[k])), `step ${step} ${k}: ${split[k]} vs ${whole[k]}`);
        }
        assert.ok(Math.abs(split.gradNorm - whole.gradNorm) <= 1e-4 * whole.gradNorm, `gradNorm ${split.gradNorm} vs ${whole.gradNorm}`);
        assert.ok(whole.gradNorm > 1e-3, 'clipping was active');
      }
      // Adam normalises each coordinate, so a gradient within float noise of 0 may flip a
      // coordinate's step; everything else must match closely.
      const [a, b] = engines.map((e) => e.getState().params);
      let close = 0;
      let total = 0;
      for (const p of paramSpecs(model)) {
        const x = a![p.name]!;
        const y = b![p.name]!;
        for (let i = 0; i < x.length; i++, total++) if (Math.abs(x[i]! - y[i]!) <= 1e-5) close++;
      }
      assert.ok(close / total >= 0.999, `${total - close} of ${total} parameters differ`);
    } finally {
      for (const e of engines) await e.close();
    }
  });
}

test('a step over micro-batches of microBatchTokens equals one whole-batch step (loss, metrics, parameters)', async () => {
  const loss = parseLossConfig({ clipHigh: 0.28, entropyCoef: 0.01, klCoef: 0.1 });
  const whole = new EngineCore(model, {});
  const micro = new EngineCore(model, {});
  try {
    whole.configureTraining(loss, parseOptimizerConfig({ lr: 1e-3, maxGradNorm: 1e-3 }));
    micro.configureTraining(loss, parseOptimizerConfig({ lr: 1e-3, maxGradNorm: 1e-3, microBatchTokens: 64 }));
    const batch = mixedBatch(5, true).filter((_, i) => i % 3 === 0 || i >= 60); // 20 short rows, 4 long
    assert.equal(splitByBudget(batch.map((s) => s.tokens.length - 1), model.context, 64).length, 9, '5 parts of 4 short rows (16 positions each), 4 long rows (64 positions) one each');
    for (let step = 0; step < 3; step++) {
      const [a, b] = [await micro.trainStep(batch), await whole.trainStep(batch, false)];
      assert.equal(a.skipped, false);
      assert.equal(a.tokens, b.tokens);
      for (const k of ['loss', 'pgLoss', 'kl', 'entropy', 'clipFrac'] as const) {
        assert.ok(Math.abs(a[k] - b[k]) <= 1e-5 * Math.max(1, Math.abs(b[k])), `step ${step} ${k}: ${a[k]} vs ${b[k]}`);
      }
      assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 1e-4 * b.gradNorm, `gradNorm ${a.gradNorm} vs ${b.gradNorm}`);
    }
    const [pa, pb] = [micro.getState().params, whole.getState().params];
    let close = 0;
    let total = 0;
    for (const p of paramSpecs(model)) for (let i = 0; i < pa[p.name]!.length; i++, total++) if (Math.abs(pa[p.name]![i]! - pb[p.name]![i]!) <= 1e-5) close++;
    assert.ok(close / total >= 0.999, `${total - close} of ${total} parameters differ`);
  } finally {
    await whole.close();
    await micro.close();
  }
});

test('a large vocabulary bounds the [B, T, V] logits: scoring runs in row chunks, a step as micro-batches without microBatchTokens', async () => {
  // 24 rows × 48 padded positions × 32768 tokens = 3.8·10⁷ logit cells > SCORE_LOGIT_CELLS (2²⁵).
  const big = parseModelConfig({ vocabSize: 32768, layers: 1, dModel: 8, heads: 2, context: 64, seed: 5 });
  const r = rng(9);
  const batch: TrainSample[] = Array.from({ length: 24 }, (_, i) => {
    const n = 30 + (i % 11);
    const tokens = Array.from({ length: n }, () => Math.floor(r() * big.vocabSize));
    return { tokens, mask: tokens.map((_, j) => (j >= 20 ? 1 : 0)), advantage: r() * 2 - 1, logprobs: Float32Array.from(tokens, () => -Math.log(big.vocabSize) + (r() - 0.5) * 0.2) };
  });
  assert.ok(24 * 48 * big.vocabSize > SCORE_LOGIT_CELLS);
  const [auto, whole] = [new EngineCore(big, {}), new EngineCore(big, {})];
  const keys = (e: EngineCore) => [...(e as unknown as { sessions: { sessions: Map<string, unknown> } }).sessions.sessions.keys()];
  try {
    const all = await auto.score(batch.map((s) => s.tokens));
    assert.deepEqual(keys(auto).sort(), ['score:20x48:false', 'score:4x48:false'], 'runs of at most 21 bucketed rows (20 + 4), not one of 24');
    for (const [i, s] of batch.entries()) {
      const [one] = await whole.score([s.tokens]);
      for (let t = 1; t < s.tokens.length; t++) assert.ok(Math.abs(one![t]! - all[i]![t]!) <= 1e-5, `row ${i} token ${t}`);
    }
    const loss = parseLossConfig({ entropyCoef: 0.01 });
    const opt = parseOptimizerConfig({ lr: 1e-3 });
    auto.configureTraining(loss, opt);
    whole.configureTraining(loss, opt);
    const [a, b] = [await auto.trainStep(batch), await whole.trainStep(batch, false)];
    assert.ok(keys(auto).some((k) => k.startsWith('grad:')) && keys(auto).includes('apply'), 'the step ran as micro-batches');
    assert.equal(a.tokens, b.tokens);
    for (const k of ['loss', 'pgLoss', 'entropy'] as const) assert.ok(Math.abs(a[k] - b[k]) <= 1e-5 * Math.max(1, Math.abs(b[k])), `${k}: ${a[k]} vs ${b[k]}`);
    assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 1e-4 * b.gradNorm, `gradNorm ${a.gradNorm} vs ${b.gradNorm}`);
  } finally {
    await auto.close();
    await whole.close();
  }
});
