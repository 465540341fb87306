import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { decodeSafetensors, encodeSafetensors, type CheckpointTensor } from '../src/checkpoint/safetensors.ts';
import { HfWeightsError, UnsupportedModelError } from '../src/errors.ts';
import { bf16ToF32, f16ToF32, loadHfPolicy, readHfModel } from '../src/hf/index.ts';
import { headDim, kvHeads } from '../src/model/config.ts';
import type { Policy } from '../src/policy.ts';
import { engineLogits } from './engine-logits.ts';
import { cachedVsScored } from './kv-consistency.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hf');
const NAMES = ['qwen2', 'llama', 'qwen3', 'arcee'] as const;
interface Expected { dtype: string; ids: number[][]; logits: number[][][] }
const expected = async (name: string) => JSON.parse(await readFile(join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected;

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup) await f(); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'spar-hf-'));
  cleanup.push(() => rm(d, { recursive: true, force: true }));
  return d;
}
async function policyOf(dir: string): Promise<Policy> {
  const { policy } = await loadHfPolicy(dir, { worker: false, threads: 1 });
  cleanup.push(() => policy.close());
  return policy;
}

const measured: Record<string, number> = {};
after(() => { console.log(`hf parity, max |engine − reference| / max |reference|: ${JSON.stringify(measured)}`); });

for (const name of NAMES) {
  test(`${name}: imported logits match the float64 Hugging Face reference`, async () => {
    const m = await readHfModel(join(FIXTURES, name));
    const exp = await expected(name);
    const got = await engineLogits(m.config, m.params, exp.ids);
    const want = exp.logits.flat(2);
    assert.equal(got.length, want.length);
    const scale = Math.max(...want.map(Math.abs));
    let err = 0;
    want.forEach((w, i) => { err = Math.max(err, Math.abs(got[i]! - w)); });
    measured[name] = err / scale;
    assert.ok(err <= 1e-4 * scale, `max abs error ${err} > 1e-4 × max |logit| ${scale}`);
  });
}

test('imported configs: GQA, head width, rope base, biases, norms and tying come from config.json', async () => {
  const [q2, ll, q3, ar] = await Promise.all(NAMES.map((n) => readHfModel(join(FIXTURES, n))));
  assert.equal(q2!.modelType, 'qwen2');
  assert.deepEqual([kvHeads(q2!.config), headDim(q2!.config), q2!.config.ropeTheta, q2!.config.attnBias, q2!.config.qkNorm, q2!.config.tieEmbeddings], [2, 8, 1e6, true, false, true]);
  assert.equal('head' in q2!.params, false, 'a tied model has no head parameter');
  assert.deepEqual([kvHeads(ll!.config), headDim(ll!.config), ll!.config.ropeTheta, ll!.config.attnBias, ll!.config.tieEmbeddings, ll!.config.normEps], [4, 4, 5e5, false, false, 1e-5]);
  assert.deepEqual([q3!.config.dModel, q3!.config.heads, headDim(q3!.config), kvHeads(q3!.config), q3!.config.qkNorm], [16, 4, 8, 2, true]);
  assert.equal(q3!.config.context, 64, 'context defaults to max_position_embeddings');
  // Arcee: Llama with a non-gated MLP; gelu_pytorch_tanh is spar's GELU, its up_proj spar's w1.
  assert.deepEqual([ar!.modelType, ar!.config.activation, kvHeads(ar!.config), ar!.config.tieEmbeddings, 'layer0.w3' in ar!.params], ['arcee', 'gelu', 1, true, false]);
  assert.equal((await readHfModel(join(FIXTURES, 'qwen3'), { context: 16 })).config.context, 16);
});

test('a Policy on an imported model scores like the reference (log-softmax of its logits)', async () => {
  const policy = await policyOf(join(FIXTURES, 'qwen3'));
  const exp = await expected('qwen3');
  const scored = await policy.score(exp.ids);
  let err = 0;
  exp.ids.forEach((seq, b) => {
    for (let t = 1; t < seq.length; t++) {
      const row = exp.logits[b]![t - 1]!;
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      err = Math.max(err, Math.abs(scored[b]![t]! - (row[seq[t]!]! - lse)));
    }
  });
  assert.ok(err <= 1e-4, `max |log-prob error| ${err}`);
});

for (const name of ['qwen2', 'qwen3'] as const) {
  test(`${name} (GQA): KV-cache decoding equals full-sequence scoring`, async () => {
    const policy = await policyOf(join(FIXTURES, name));
    const exp = await expected(name);
    const prompts = [exp.ids[0]!.slice(0, 3), exp.ids[1]!.slice(0, 7), exp.ids[0]!.slice(0, 1)];
    const { rows, maxGap: err } = await cachedVsScored(policy, prompts, { maxNewTokens: 10, temperature: 1, seed: 5 });
    for (const row of rows) assert.equal(row.tokens.length, 10);
    assert.ok(err <= 1e-4, `max |cached − scored| ${err}`);
  });
}

/** A copy of a fixture whose tensors (and config) were edited. */
async function edited(name: string, edit: (t: Record<string, CheckpointTensor>) => void, config?: (c: Record<string, unknown>) => void): Promise<string> {
  const dir = await tempDir();
  const src = join(FIXTURES, name);
  const { tensors } = decodeSafetensors(await readFile(join(src, 'model.safetensors')));
  edit(tensors);
  await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
  const cfg = JSON.parse(await readFile(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  config?.(cfg);
  await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

test('strict weights: one error names every missing, unexpected and mis-shaped tensor', async () => {
  const dir = await edited('qwen3', (t) => {
    delete t['model.layers.1.self_attn.k_norm.weight'];
    delete t['model.norm.weight'];
    t['model.layers.0.self_attn.o_proj.bias'] = { dtype: 'float32', shape: [16], data: new Float32Array(16) };
    const wq = t['model.layers.0.self_attn.q_proj.weight']!;
    t['model.layers.0.self_attn.q_proj.weight'] = { ...wq, shape: [wq.shape[1]!, wq.shape[0]!] }; // stored [in, out]
  });
  await assert.rejects(readHfModel(dir), (e: unknown) => {
    assert.ok(e instanceof HfWeightsError);
    assert.equal(e.code, 'HF_WEIGHTS_INVALID');
    assert.deepEqual(e.issues.map((i) => `${i.kind} ${i.name}`).sort(), [
      'missing model.layers.1.self_attn.k_norm.weight',
      'missing model.norm.weight',
      'shape model.layers.0.self_attn.q_proj.weight',
      'unexpected model.layers.0.self_attn.o_proj.bias',
    ]);
    assert.match(e.message, /tensor model\.layers\.0\.self_attn\.q_proj\.weight has shape \[16, 32\], expected \[32, 16\]/);
    assert.match(e.message, /missing tensor model\.norm\.weight \(expected shape \[16\]\)/);
    return true;
  });
});

test('strict weights: a mis-shaped tensor reports expected and found shapes; a tied lm_head must equal the embedding', async () => {
  const dir = await edited('qwen2', (t) => {
    t['lm_head.weight'] = { ...t['model.embed_tokens.weight']!, data: new Uint16Array(t['model.embed_tokens.weight']!.data.length) };
  });
  await assert.rejects(readHfModel(dir), (e: unknown) => e instanceof HfWeightsError
    && e.issues.length === 1 && e.issues[0]!.kind === 'unexpected' && /differs from model\.embed_tokens\.weight/.test(e.message));
  const bad = await edited('llama', (t) => {
    const up = t['model.layers.1.mlp.up_proj.weight']!;
    t['model.layers.1.mlp.up_proj.weight'] = { ...up, shape: [up.shape[1]!, up.shape[0]!] };
  });
  await assert.rejects(readHfModel(bad), (e: unknown) => e instanceof HfWeightsError
    && e.message.includes('tensor model.layers.1.mlp.up_proj.weight has shape [16, 24], expected [24, 16]'));
  // The same lm_head equal to the embedding is accepted (some exporters save tied heads).
  const ok = await edited('qwen2', (t) => { t['lm_head.weight'] = t['model.embed_tokens.weight']!; });
  assert.equal('head' in (await readHfModel(ok)).params, false);
});

test('unsupported models are refused naming the feature', async () => {
  const cases: [(c: Record<string, unknown>) => void, RegExp, string][] = [
    [(c) => { c.model_type = 'gpt2'; }, /model_type 'gpt2'/, 'model_type gpt2'],
    [(c) => { c.rope_scaling = { rope_type: 'llama3', factor: 8 }; }, /rope_scaling type 'llama3'/, 'rope_scaling.llama3'],
    [(c) => { c.rope_scaling = { type: 'linear', factor: 2 }; }, /rope_scaling type 'linear'/, 'rope_scaling.linear'],
    [(c) => { c.use_sliding_window = true; }, /sliding-window/, 'use_sliding_window'],
    [(c) => { c.attention_bias = true; }, /o_proj bias/, 'attention_bias'],
    [(c) => { c.hidden_act = 'gelu'; }, /hidden_act 'gelu'/, 'hidden_act gelu'],
  ];
  for (const [cfg, message, feature] of cases) {
    const dir = await edited('llama', () => {}, cfg);
    await assert.rejects(readHfModel(dir), (e: unknown) => e instanceof UnsupportedModelError && e.code === 'HF_MODEL_UNSUPPORTED'
      && e.feature === feature && message.test(e.message), feature);
  }
  // rope_scaling of the default type is plain RoPE.
  await readHfModel(await edited('llama', () => {}, (c) => { c.rope_scaling = { rope_type: 'default' }; }));
  // Arcee's non-gated MLP is imported with GELU-tanh only (its default, relu2, and silu are refused).
  for (const [cfg, feature] of [[(c: Record<string, unknown>) => { c.hidden_act = 'silu'; }, 'hidden_act silu'], [(c: Record<string, unknown>) => { delete c.hidden_act; }, 'hidden_act relu2']] as const) {
    await assert.rejects(readHfModel(await edited('arcee', () => {}, cfg)), (e: unknown) => e instanceof UnsupportedModelError && e.feature === feature && /arcee's non-gated MLP/.test(e.message), feature);
  }
});

test('a sharded checkpoint (model.safetensors.index.json) imports the same weights; a broken index is reported', async () => {
  const src = join(FIXTURES, 'llama');
  const { tensors } = decodeSafetensors(await readFile(join(src, 'model.safetensors')));
  const dir = await tempDir();
  await cp(join(src, 'config.json'), join(dir, 'config.json'));
  const names = Object.keys(tensors).sort();
  const shards = [names.slice(0, 9), names.slice(9)];
  const weightMap: Record<string, string> = {};
  for (const [i, part] of shards.entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    await writeFile(join(dir, file), encodeSafetensors(Object.fromEntries(part.map((n) => [n, tensors[n]!])), { format: 'pt' }));
    for (const n of part) weightMap[n] = file;
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const [whole, sharded] = [await readHfModel(src), await readHfModel(dir)];
  assert.deepEqual(Object.keys(sharded.params), Object.keys(whole.params));
  for (const k of Object.keys(whole.params)) assert.deepEqual(sharded.params[k], whole.params[k], k);

  weightMap[names[0]!] = 'model-00002-of-00002.safetensors'; // lies about where a tensor lives
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  await assert.rejects(readHfModel(dir), (e: unknown) => e instanceof HfWeightsError
    && e.issues.some((i) => i.name === names[0] && /index places it in model-00002-of-00002/.test(i.message)));
});

test('BF16 and F16 decode exactly to float32', () => {
  const bf = new Uint16Array([0x0000, 0x8000, 0x3f80, 0xbf80, 0x4049, 0x7f80, 0xff80, 0x7fc1, 0x0001, 0x7f7f, 0x3c23]);
  const bits = new Uint32Array(bf16ToF32(bf).buffer);
  assert.deepEqual([...bits], [...bf].map((b) => (b << 16) >>> 0), 'BF16 is the high half of a float32');
  assert.equal(bf16ToF32(new Uint16Array([0x3f80]))[0], 1);
  assert.equal(bf16ToF32(new Uint16Array([0xc0a0]))[0], -5);
  // Every one of the 65536 half-precision patterns, against the IEEE 754 definition.
  const all = f16ToF32(Uint16Array.from({ length: 65536 }, (_, i) => i));
  for (let i = 0; i < 65536; i++) {
    const s = i & 0x8000 ? -1 : 1;
    const e = (i >> 10) & 31;
    const m = i & 1023;
    const want = e === 31 ? (m ? NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
    assert.ok(Object.is(all[i], want) || (Number.isNaN(all[i]) && Number.isNaN(want)), `F16 0x${i.toString(16)}: ${all[i]} vs ${want}`);
  }
  // And through the safetensors codec: BF16/F16 tensors keep their bits.
  const t = { a: { dtype: 'bfloat16', shape: [2, 2], data: new Uint16Array([1, 0x8000, 0x7fc1, 0x3f80]) }, b: { dtype: 'float16', shape: [1], data: new Uint16Array([0x3c00]) } } as const;
  const back = decodeSafetensors(encodeSafetensors(t)).tensors;
  assert.equal(back.a!.dtype, 'bfloat16');
  assert.deepEqual([...back.a!.data], [1, 0x8000, 0x7fc1, 0x3f80]);
  assert.deepEqual([...back.b!.data], [0x3c00]);
});
