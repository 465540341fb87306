import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConfigError } from '../src/errors.ts';
import { Graph } from '../src/graph/index.ts';
import { headDim, kvHeads, parseModelConfig, ropeTheta } from '../src/model/config.ts';
import { paramSpecs } from '../src/model/params.ts';
import { declareParams, forward } from '../src/model/transformer.ts';
import { Policy } from '../src/index.ts';
import { gradcheckGraph, randomFeeds, rng } from './gradcheck.ts';
import { cachedVsScored } from './kv-consistency.ts';

const open: Policy[] = [];
after(async () => { await Promise.all(open.map((p) => p.close())); });

test('architecture options default to today\'s model: same parsed config, same parameters', () => {
  const c = parseModelConfig({ vocabSize: 11, dModel: 32, heads: 4 });
  for (const k of ['kvHeads', 'headDim', 'ropeTheta', 'attnBias', 'qkNorm']) assert.equal(k in c, false, `${k} appears in a config that did not set it`);
  assert.equal(kvHeads(c), 4);
  assert.equal(headDim(c), 8);
  assert.equal(ropeTheta(c), 10000);
  assert.deepEqual(paramSpecs(c).filter((p) => p.name.startsWith('layer0.')).map((p) => `${p.name}[${p.shape.join('x')}]`), [
    'layer0.attnNorm[32]', 'layer0.wq[32x32]', 'layer0.wk[32x32]', 'layer0.wv[32x32]', 'layer0.wo[32x32]',
    'layer0.mlpNorm[32]', 'layer0.w1[32x128]', 'layer0.w2[128x32]',
  ]);
});

test('GQA, explicit head width, biases and q/k norms shape the parameters', () => {
  const c = parseModelConfig({ vocabSize: 11, dModel: 16, heads: 4, kvHeads: 2, headDim: 8, attnBias: true, qkNorm: true, activation: 'swiglu', ffn: 24 });
  assert.deepEqual(paramSpecs(c).filter((p) => p.name.startsWith('layer0.')).map((p) => `${p.name}[${p.shape.join('x')}]`), [
    'layer0.attnNorm[16]', 'layer0.wq[16x32]', 'layer0.wk[16x16]', 'layer0.wv[16x16]', 'layer0.bq[32]', 'layer0.bk[16]', 'layer0.bv[16]',
    'layer0.qNorm[8]', 'layer0.kNorm[8]', 'layer0.wo[32x16]', 'layer0.mlpNorm[16]', 'layer0.w1[16x24]', 'layer0.w3[16x24]', 'layer0.w2[24x16]',
  ]);
  const specs = paramSpecs(c);
  assert.equal(specs.find((p) => p.name === 'layer0.bq')!.decay, false);
  assert.equal(specs.find((p) => p.name === 'layer0.qNorm')!.init, 'ones');
});

test('bad architecture options are refused naming the field', () => {
  const base = { vocabSize: 11, dModel: 16, heads: 4 };
  assert.throws(() => parseModelConfig({ ...base, kvHeads: 3 }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === '/kvHeads');
  assert.throws(() => parseModelConfig({ ...base, headDim: 5 }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === '/headDim');
  assert.throws(() => parseModelConfig({ ...base, ropeTheta: 0 }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === '/ropeTheta');
  // An explicit head width lifts the divisibility rule (Qwen3: heads · headDim ≠ dModel).
  assert.equal(headDim(parseModelConfig({ ...base, dModel: 18, headDim: 6 })), 6);
});

test('gradients of a GQA + bias + q/k-norm model match finite differences (float64)', async () => {
  const c = parseModelConfig({
    vocabSize: 5, layers: 1, dModel: 6, heads: 4, kvHeads: 2, headDim: 2, ffn: 4, context: 4,
    activation: 'swiglu', attnBias: true, qkNorm: true, ropeTheta: 50, tieEmbeddings: true,
  });
  const g = new Graph('float64');
  const params = declareParams(g, c);
  const ids = g.input('ids', 'int64', [2, 4]);
  const logits = forward(g, c, params, ids).logits;
  const w = g.input('w', 'float64', logits.shape);
  const res = await gradcheckGraph(g, [...params.values()], g.sumAll(g.mul(logits, w)),
    randomFeeds(5, { ids: { dtype: 'int64', shape: [2, 4], data: BigInt64Array.from([0, 3, 1, 4, 2, 2, 0, 1].map(BigInt)) } }));
  assert.equal(res.checked, paramSpecs(c).reduce((s, p) => s + p.shape.reduce((a, d) => a * d, 1), 0));
  assert.ok(res.maxRelError <= 1e-5, `max relative error ${res.maxRelError}`);
});

test('GQA with biases and q/k norms: KV-cache generation log-probs equal full-sequence scoring', async () => {
  const p = await Policy.create({
    vocabSize: 13, layers: 2, dModel: 16, heads: 4, kvHeads: 2, headDim: 6, context: 24, activation: 'swiglu',
    attnBias: true, qkNorm: true, ropeTheta: 1e6, initStd: 0.3, seed: 3,
  }, { worker: false, threads: 1 });
  open.push(p);
  const r = rng(4);
  const prompts = [2, 5, 9].map((n) => Array.from({ length: n }, () => Math.floor(r() * 13)));
  const { rows, maxGap: maxErr } = await cachedVsScored(p, prompts, { maxNewTokens: 8, temperature: 1, seed: 2 });
  for (const row of rows) assert.equal(row.tokens.length, 8);
  assert.ok(maxErr <= 1e-5, `max |cached - scored| = ${maxErr}`);
});
