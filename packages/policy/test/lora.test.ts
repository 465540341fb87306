// LoRA adapters on a frozen base: a fresh adapter is the identity, the adapted model equals its
// merged base, only adapters train / travel / are checkpointed, the base scores as the KL
// reference, a base read from a Hugging Face folder, finite-difference gradients of the adapters.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { decodeSafetensors } from '../src/checkpoint/safetensors.ts';
import { ConfigError } from '../src/errors.ts';
import { readHfModel, writeHfModel } from '../src/hf/index.ts';
import { baseConfig, parseModelConfig } from '../src/model/config.ts';
import { mergeLora } from '../src/model/lora-merge.ts';
import { paramSpecs, trainableSpecs } from '../src/model/params.ts';
import { parseLossConfig } from '../src/train/loss.ts';
import { buildLossGraph } from '../src/train/step-graph.ts';
import { Learner, loadPolicy, Policy, policyWeights, applyWeights, readSourceWeights, savePolicy } from '../src/index.ts';
import { gradcheckGraph, randomFeeds } from './gradcheck.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/hf/', import.meta.url));
const base = { vocabSize: 13, layers: 2, dModel: 16, heads: 4, kvHeads: 2, ffn: 24, context: 16, activation: 'swiglu' as const, attnBias: true, seed: 4 };
const lora = { ...base, lora: { rank: 4, alpha: 8 } };
const samples = [
  { tokens: [1, 5, 6, 7, 8], mask: [0, 0, 1, 1, 1], advantage: 1 },
  { tokens: [1, 9, 10, 11], mask: [0, 0, 1, 1], advantage: -1 },
];
const seqs = samples.map((s) => s.tokens);
const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))); });
async function tmp() {
  const d = await mkdtemp(join(tmpdir(), 'spar-lora-'));
  dirs.push(d);
  return d;
}
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const maxDiff = (a: readonly Float32Array[], b: readonly Float32Array[]) => {
  let m = 0;
  a.forEach((x, r) => { for (let i = 1; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - b[r]![i]!)); });
  return m;
};
/** Train `p` a few steps with a learning rate large enough to move every adapter. */
async function train(p: Policy, steps = 3, loss: object = {}) {
  const l = await Learner.create(p, loss, { lr: 5e-2 });
  for (let i = 0; i < steps; i++) assert.equal((await l.step(samples)).skipped, false);
}

test('LoRA config: adapters on every projection by default, targets by Hugging Face name, refusals', () => {
  const c = parseModelConfig(lora);
  const names = trainableSpecs(c).map((s) => s.name);
  assert.equal(names.length, 2 * 7 * 2, 'A and B on 7 projections in 2 layers');
  assert.ok(names.includes('layer1.w3.loraB'));
  assert.ok(paramSpecs(c).filter((s) => s.frozen).length === paramSpecs(baseConfig(c)).length, 'every base weight is frozen');
  const attnOnly = parseModelConfig({ ...lora, lora: { rank: 2, alpha: 2, targets: ['q_proj', 'v_proj'] } });
  assert.deepEqual(trainableSpecs(attnOnly).map((s) => s.name), ['layer0.wq.loraA', 'layer0.wq.loraB', 'layer0.wv.loraA', 'layer0.wv.loraB', 'layer1.wq.loraA', 'layer1.wq.loraB', 'layer1.wv.loraA', 'layer1.wv.loraB']);
  // A non-gated (GELU) MLP has up_proj (= w1) and down_proj only.
  const gelu = parseModelConfig({ ...lora, activation: 'gelu', lora: { rank: 2, alpha: 2, targets: ['up_proj'] } });
  assert.deepEqual(trainableSpecs(gelu).map((s) => s.name).slice(0, 2), ['layer0.w1.loraA', 'layer0.w1.loraB']);
  assert.throws(() => parseModelConfig({ ...lora, activation: 'gelu', lora: { rank: 2, alpha: 2, targets: ['gate_proj'] } }), (e: unknown) => e instanceof ConfigError && /gate_proj/.test(e.message));
  assert.throws(() => parseModelConfig({ ...lora, lora: { rank: 0 } }), ConfigError);
  assert.throws(() => parseModelConfig({ ...lora, lora: { rank: 2, targets: ['lm_head'] } }), ConfigError);
});

test('a fresh adapter is its base exactly; trained, the adapted model equals its merge and its base stays untouched', async () => {
  const [b, a] = [await Policy.create(base, { worker: false }), await Policy.create(lora, { worker: false })];
  // Same seed: the base weights of the adapted model are the plain model's (adapters come last).
  assert.deepEqual(await a.score(seqs), await b.score(seqs));
  const before = (await a.engine.mergedParams()).params;
  await train(a);
  const st = await a.state();
  assert.deepEqual(Object.keys(st.params).sort(), trainableSpecs(a.config).map((s) => s.name).sort(), 'state holds the adapters only');
  assert.deepEqual(Object.keys(st.m!).sort(), Object.keys(st.params).sort(), 'moments for the adapters only');
  for (const s of trainableSpecs(a.config).filter((x) => x.name.endsWith('loraB'))) assert.ok(st.params[s.name]!.some((x) => x !== 0), `${s.name} moved`);
  // The base: bit-identical, and scoring with the adapters off gives the plain model's scores.
  const merged = await a.engine.mergedParams();
  assert.deepEqual(merged.config, baseConfig(a.config));
  assert.deepEqual(await a.score(seqs, undefined, true), await b.score(seqs));
  assert.notDeepEqual(await a.score(seqs), await b.score(seqs));
  // Adapted = merged (W + (alpha/rank)·A·B) up to float32 rounding.
  await b.setState({ params: merged.params, step: 0, version: 1 });
  assert.ok(maxDiff(await a.score(seqs), await b.score(seqs)) < 1e-5);
  const unmoved = paramSpecs(baseConfig(a.config)).filter((p) => !/\.(wq|wk|wv|wo|w1|w2|w3)$/.test(p.name));
  for (const p of unmoved) assert.ok(bytes(merged.params[p.name]!).equals(bytes(before[p.name]!)), `${p.name} changed`);
  await a.close();
  await b.close();
});

test('published weights are the adapters only and make a worker equal to the learner; checkpoints resume exactly', async () => {
  const learner = await Policy.create(lora, { worker: false });
  await train(learner, 2, { entropyCoef: 0.01 });
  const w = await policyWeights(learner);
  const names = Object.keys(decodeSafetensors(w.bytes).tensors).map((k) => k.replace(/^param\//, ''));
  assert.deepEqual(names.sort(), trainableSpecs(learner.config).map((s) => s.name).sort());
  const worker = await Policy.create(lora); // a worker thread, as services run it
  await applyWeights(worker, w);
  assert.equal(worker.version, learner.version);
  assert.deepEqual(await worker.score(seqs), await learner.score(seqs));
  // Checkpoint: adapters and their moments; a resume continues bit for bit.
  const dir = join(await tmp(), 'ck');
  await savePolicy(learner, dir);
  const { policy: resumed } = await loadPolicy(dir, { worker: false });
  await train(learner, 1, { entropyCoef: 0.01 });
  await train(resumed, 1, { entropyCoef: 0.01 });
  // (fresh Learners on both: same moments restored, same step count)
  const [x, y] = [await learner.state(), await resumed.state()];
  for (const k of Object.keys(x.params)) assert.ok(bytes(x.params[k]!).equals(bytes(y.params[k]!)), `${k} differs after resume`);
  for (const p of [learner, worker, resumed]) await p.close();
});

test('LoRA on a Hugging Face base folder: read by every engine, merged on the way out, bit-exact back in', async () => {
  const dir = join(FIXTURES, 'qwen2');
  const plain = await readHfModel(dir);
  const c = parseModelConfig({ ...plain.config, lora: { rank: 2, alpha: 4, targets: ['q_proj', 'o_proj', 'down_proj'], base: dir } });
  const ids = [[1, 2, 3, 4, 5, 6]];
  const ref = await Policy.create(plain.config, { worker: false });
  await ref.setState({ params: plain.params, step: 0, version: 0 });
  const adapted = await Policy.create(c); // reads the base in its worker thread
  assert.deepEqual(await adapted.score(ids), await ref.score(ids), 'fresh adapters: the imported model itself');
  await train(adapted as Policy, 2);
  const dirOut = await tmp();
  const ck = join(dirOut, 'ck');
  await savePolicy(adapted, ck);
  // A LoRA checkpoint holds adapters; as a warm-start / export source it reads back merged into its base.
  const src = await readSourceWeights(ck);
  assert.deepEqual(src.config, baseConfig(c));
  const merged = mergeLora(c, { ...plain.params, ...(await adapted.state(false)).params });
  for (const [k, v] of Object.entries(merged.params)) assert.ok(bytes(src.params[k]!).equals(bytes(v)), `${k}`);
  const out = join(dirOut, 'hf');
  await writeHfModel(out, { config: src.config, params: src.params, modelType: 'qwen2' });
  const back = await readHfModel(out);
  for (const [k, v] of Object.entries(src.params)) assert.ok(bytes(back.params[k]!).equals(bytes(v)), `${k} not bit-exact through the export`);
  await ref.setState({ params: back.params, step: 0, version: 1 });
  assert.ok(maxDiff(await adapted.score(ids), await ref.score(ids)) < 1e-4);
  // A base folder of another shape is refused by name.
  await assert.rejects(Policy.create({ ...c, lora: { ...c.lora!, base: join(FIXTURES, 'llama') } }), /LoRA base .*llama.*mismatch/);
  await ref.close();
  await adapted.close();
});

test('LoRA loss gradient (float64 finite differences): adapters of a GQA + bias + SwiGLU model, PPO + k3 KL', async () => {
  const c = parseModelConfig({ ...base, vocabSize: 7, dModel: 8, heads: 2, kvHeads: 1, ffn: 12, context: 8, lora: { rank: 2, alpha: 4 } });
  const loss = parseLossConfig({ klCoef: 0.5, entropyCoef: 0.1 });
  const B = 3;
  const T = 5;
  const { g, params, out, specs } = buildLossGraph(c, loss, { batch: B, length: T, withRef: true }, 'float64');
  assert.ok(specs.every((s) => /lora[AB]$/.test(s.name)), 'only adapters are differentiated');
  const feeds = {
    ids: { dtype: 'int64' as const, shape: [B, T], data: BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 5 + 1) % 7)) },
    targets: { dtype: 'int64' as const, shape: [B, T], data: BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 3 + 2) % 7)) },
    mask: { dtype: 'float64' as const, shape: [B, T], data: Float64Array.from({ length: B * T }, (_, i) => (i % 4 === 3 ? 0 : 1)) },
    advantages: { dtype: 'float64' as const, shape: [B, T], data: Float64Array.from({ length: B * T }, (_, i) => Math.sin(i)) },
    oldLogp: { dtype: 'float64' as const, shape: [B, T], data: Float64Array.from({ length: B * T }, (_, i) => -2 + 0.1 * Math.cos(i)) },
    refLogp: { dtype: 'float64' as const, shape: [B, T], data: Float64Array.from({ length: B * T }, (_, i) => -2 + 0.1 * Math.sin(2 * i)) },
  };
  // Every other input (base weights and adapters, B included) random: a zero B would make dA vanish.
  const res = await gradcheckGraph(g, params, out.loss, randomFeeds(5, feeds, 0.5));
  assert.ok(res.checked > 400, `checked only ${res.checked}`);
  assert.ok(res.maxRelError <= 1e-5, `max relative error ${res.maxRelError}`);
});
