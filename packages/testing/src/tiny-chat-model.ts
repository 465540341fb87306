/**
 * A tiny Hugging Face chat model written at test time (nothing downloaded): a Qwen2-layout
 * folder whose tokenizer is character-level with ChatML specials, and whose weights make it a
 * bigram sampler that writes r-zero's text formats often enough for a test to see valid questions
 * and well-formed answers.
 *
 * Tokenizer: spar's Vocabulary (the fixed specials, `<|im_start|>`, `<|im_end|>`, every printable
 * ASCII character, `\n`, and the tags `<question>`, `</question>`, `\boxed{` as single tokens),
 * written by writeHfModel as a WordLevel tokenizer.json; a ChatML chat_template.jinja (Qwen's,
 * without its default system prompt); eos `<eos>` and `<|im_end|>` (generation_config.json).
 *
 * Weights: random (seeded) except three choices that make the next token depend on the current
 * one alone: each token's embedding is a one-hot row, and o_proj and down_proj are zero, so the
 * residual stream is the current token's embedding and the logits are one row of lm_head, set to
 * the bigram table below (log-probabilities; every other token ≈ −20 nats below):
 *
 *   "\n"           → "<question>" ½, "\boxed{" ½          (every chat prompt ends "assistant\n")
 *   "<question>", "+", "\boxed{"  → a digit 1–9, uniform
 *   digit          → "+" 0.4, "</question>" 0.3, "}" 0.3
 *   "</question>", "}", anything else → "<|im_end|>"
 *
 * So about 1 challenger reply in 10 is a valid question (`<question>3+5</question>`), and about
 * 1 solver reply in 7 a well-formed answer (`\boxed{7}`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EOS_ID, initParams, loadHfTextModel, parseModelConfig, Vocabulary, writeHfModel, type HfTextModel, type ModelConfig, type Policy, type TextCodec } from '@spar/policy';

export const CHATML_TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Printable ASCII, one symbol each: with ChatML's markers, the character-level chat vocabularies of test and benchmark models. */
export const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

export interface TinyChatModel {
  readonly dir: string;
  readonly vocab: Vocabulary;
  readonly config: ModelConfig;
  readonly params: Record<string, Float32Array>;
}

/** Writes the model folder `dir` (must not exist, or be empty). */
export async function writeTinyChatModel(dir: string, opts: { seed?: number; context?: number } = {}): Promise<TinyChatModel> {
  const vocab = Vocabulary.create([{ specials: ['<|im_start|>', '<|im_end|>'], symbols: [...PRINTABLE, '\n', '<question>', '</question>', '\\boxed{'] }]);
  const V = vocab.size;
  const d = 128;
  if (V > d) throw new Error(`the bigram construction needs dModel ≥ the vocabulary (${V})`);
  const config = parseModelConfig({
    vocabSize: V, layers: 1, dModel: d, heads: 2, kvHeads: 1, ffn: 32, context: opts.context ?? 512,
    activation: 'swiglu', attnBias: true, normEps: 1e-6, seed: opts.seed ?? 7,
  });
  const params = Object.fromEntries(initParams(config));
  const id = (t: string) => vocab.id(t);
  const embed = params.embed!.fill(0);
  for (let t = 0; t < V; t++) embed[t * d + t] = 1;
  params['layer0.wo']!.fill(0);
  params['layer0.w2']!.fill(0);
  // RMSNorm of a one-hot row is √d times it: row t of the head, scaled by √d, is token t's logits.
  const head = params.head!;
  const scale = Math.sqrt(d);
  const digits = '123456789'.split('').map(id);
  const next = (t: number): [number, number][] => {
    const s = vocab.symbol(t);
    if (s === '\n') return [[id('<question>'), 0.5], [id('\\boxed{'), 0.5]];
    if (s === '<question>' || s === '+' || s === '\\boxed{') return digits.map((x) => [x, 1 / 9]);
    if (digits.includes(t)) return [[id('+'), 0.4], [id('</question>'), 0.3], [id('}'), 0.3]];
    return [[id('<|im_end|>'), 1]];
  };
  for (let t = 0; t < V; t++) {
    for (let j = 0; j < V; j++) head[t * V + j] = -20 / scale;
    for (const [j, p] of next(t)) head[t * V + j] = Math.log(p) / scale;
  }
  await writeHfModel(dir, { config, params, vocabulary: vocab, generation: { eos: [EOS_ID, id('<|im_end|>')] } });
  await writeFile(join(dir, 'chat_template.jinja'), CHATML_TEMPLATE);
  return { dir, vocab, config, params };
}

/** A tiny chat model in a temporary folder of its own, read as a text model, for a test file's lifetime. */
export interface TinyChatFixture {
  /** The temporary folder (the model is `root/model`). */
  readonly root: string;
  readonly tiny: TinyChatModel;
  readonly model: HfTextModel;
  readonly codec: TextCodec;
  /** Policies the tests open on it; close() closes them. */
  readonly policies: Policy[];
  /** Closes the policies and removes the folder. */
  close(): Promise<void>;
}

export async function tinyChatFixture(prefix: string, opts: { context?: number } = {}): Promise<TinyChatFixture> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const tiny = await writeTinyChatModel(join(root, 'model'), opts);
  const model = await loadHfTextModel(tiny.dir, opts.context !== undefined ? { context: opts.context } : {});
  const policies: Policy[] = [];
  return {
    root, tiny, model, codec: model.codec, policies,
    async close() {
      await Promise.all(policies.splice(0).map((p) => p.close()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
