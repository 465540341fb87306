/**
 * Export a spar policy as a Hugging Face causal LM folder that
 * `transformers.AutoModelForCausalLM.from_pretrained(dir)` loads and that computes the same logits:
 *
 *   config.json               the model type's Config keys (config.ts `hfConfigJson`)
 *   model.safetensors         HF names and [out, in] layouts (weights.ts), F32 or BF16,
 *                             __metadata__ {"format": "pt"}
 *   generation_config.json    bos/eos/pad ids (over the tokenizer folder's own, when it has one)
 *   tokenizer files           copied from `tokenizerDir`, or written for spar's `vocabulary`
 *                             (vocab-tokenizer.ts), or none
 *
 * The model type is the one that computes exactly what the spar model computes (hfModelTypeFor);
 * a model no supported type computes is refused with an HfExportError, never exported
 * approximately. readHfModel reads the folder back to the same config and, for F32, the same
 * parameters bit for bit.
 *
 * On disk: the folder is written all or nothing (checkpoint/store.ts `writeFolderAtomic`): a crash
 * leaves the complete folder or none (plus at worst a hidden `.<name>.tmp-*` sibling). The target
 * must not exist or be an empty folder; an export never overwrites one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeSafetensors } from '../checkpoint/safetensors.ts';
import { writeFolderAtomic } from '../checkpoint/store.ts';
import { HfExportError, HfTokenizerError, ShapeError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { parseModelConfig } from '../model/config.ts';
import { paramSpecs } from '../model/params.ts';
import { BOS_ID, EOS_ID, PAD_ID, type Vocabulary } from '../vocab/vocabulary.ts';
import { hfConfigJson, hfModelTypeFor, type HfModelType, type HfSpecialIds } from './config.ts';
import { HF_CONFIG_FILE, HF_WEIGHTS_FILE } from './read.ts';
import { HF_GENERATION_CONFIG_FILE, loadHfTokenizer } from './tokenizer.ts';
import { vocabularyTokenizerFiles } from './vocab-tokenizer.ts';
import { paramsToHf } from './weights.ts';

/** The files of a tokenizer folder an export carries along when present (tokenizer.json is required). */
export const HF_TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json',
  'chat_template.jinja', 'chat_template.json', 'vocab.json', 'merges.txt', 'tokenizer.model',
] as const;

export interface HfExportOptions {
  readonly config: ModelConfig;
  /** Every parameter of `config` (paramSpecs), float32 in spar's layout. */
  readonly params: Readonly<Record<string, Float32Array>>;
  /** Default: the type that computes the model exactly; another is accepted only where it is exact too. */
  readonly modelType?: HfModelType;
  /** Storage type of the weights (default float32, bit-exact; bfloat16 rounds to nearest even). */
  readonly dtype?: 'float32' | 'bfloat16';
  /** A Hugging Face tokenizer folder (the imported model's) whose files are copied. */
  readonly tokenizerDir?: string;
  /** spar's symbol vocabulary, written as a Hugging Face tokenizer. Not together with tokenizerDir. */
  readonly vocabulary?: Vocabulary;
  /** Token ids for config.json and generation_config.json; by default the tokenizer's (none without one). */
  readonly generation?: { readonly bos?: number | null; readonly eos?: number | readonly number[] | null; readonly pad?: number | null };
}

export interface HfExport {
  readonly dir: string;
  readonly modelType: HfModelType;
  /** The files written, sorted. */
  readonly files: readonly string[];
  /** Where the tokenizer came from. */
  readonly tokenizer: 'copied' | 'vocabulary' | 'none';
}

type Json = Record<string, unknown>;
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Every parameter present with its spec's size, nothing else (a ShapeError lists what is not). */
function checkParams(c: ModelConfig, params: Readonly<Record<string, Float32Array>>): void {
  const specs = paramSpecs(c);
  const problems: string[] = [];
  for (const s of specs) {
    const n = s.shape.reduce((a, d) => a * d, 1);
    const p = params[s.name];
    if (!(p instanceof Float32Array)) problems.push(`${s.name} missing`);
    else if (p.length !== n) problems.push(`${s.name} has ${p.length} values, expected ${n} ([${s.shape.join(', ')}])`);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(params)) if (!known.has(name)) problems.push(`${name} is not a parameter of this model`);
  if (problems.length) throw new ShapeError('params', problems.join('; '));
}

/** A llama-shaped model as qwen2: the same model with zero q/k/v biases (x·W + 0 = x·W exactly). */
function withZeroBiases(c: ModelConfig, params: Readonly<Record<string, Float32Array>>) {
  const config = parseModelConfig({ ...c, attnBias: true });
  const all: Record<string, Float32Array> = { ...params };
  for (const s of paramSpecs(config)) all[s.name] ??= new Float32Array(s.shape.reduce((a, d) => a * d, 1));
  return { config, params: all };
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const idList = (v: number | readonly number[] | null | undefined): number[] | undefined => (v === undefined ? undefined : v === null ? [] : typeof v === 'number' ? [v] : [...v]);

/** Tokenizer files and the special ids they define, or nothing. */
async function tokenizerFiles(o: HfExportOptions): Promise<{ files: Record<string, Uint8Array | string>; ids: HfSpecialIds; generation: Json; kind: HfExport['tokenizer'] }> {
  if (o.vocabulary) {
    if (o.vocabulary.size > o.config.vocabSize) throw new HfExportError('vocabulary', `cannot export: the vocabulary has ${o.vocabulary.size} tokens but the model only ${o.config.vocabSize} embedding rows`);
    return { files: vocabularyTokenizerFiles(o.vocabulary, o.config.context), ids: { bos: BOS_ID, eos: [EOS_ID], pad: PAD_ID }, generation: {}, kind: 'vocabulary' };
  }
  if (o.tokenizerDir === undefined) return { files: {}, ids: { bos: null, eos: [], pad: null }, generation: {}, kind: 'none' };
  const tok = await loadHfTokenizer(o.tokenizerDir); // checks that it loads and that its specials exist
  if (tok.vocabSize > o.config.vocabSize) throw new HfTokenizerError(o.tokenizerDir, `its largest token id is ${tok.vocabSize - 1}, beyond the model's ${o.config.vocabSize} embedding rows`);
  const files: Record<string, Uint8Array> = {};
  for (const name of HF_TOKENIZER_FILES) {
    const data = await readIfExists(join(o.tokenizerDir, name));
    if (data) files[name] = data;
  }
  const generationFile = await readIfExists(join(o.tokenizerDir, HF_GENERATION_CONFIG_FILE));
  const generation = generationFile ? (JSON.parse(generationFile.toString('utf8')) as Json) : {}; // loadHfTokenizer parsed it already
  // A tokenizer without a bos_token (Qwen's) may still name one for generation.
  const bos = tok.bos ?? (Number.isInteger(generation.bos_token_id) ? (generation.bos_token_id as number) : null);
  return { files, ids: { bos, eos: tok.eos, pad: tok.pad }, generation, kind: 'copied' };
}

/** Write `opts`' model as a Hugging Face model folder `dir` (see the module comment). */
export async function writeHfModel(dir: string, opts: HfExportOptions): Promise<HfExport> {
  if (opts.tokenizerDir !== undefined && opts.vocabulary) throw new HfExportError('tokenizer', 'cannot export: give tokenizerDir or vocabulary, not both');
  checkParams(opts.config, opts.params);
  const modelType = hfModelTypeFor(opts.config, opts.modelType);
  const { config, params } = modelType === 'qwen2' && !opts.config.attnBias ? withZeroBiases(opts.config, opts.params) : opts;
  const dtype = opts.dtype ?? 'float32';
  const tok = await tokenizerFiles(opts);
  const g = opts.generation ?? {};
  const ids: HfSpecialIds = {
    bos: g.bos !== undefined ? g.bos : tok.ids.bos,
    eos: idList(g.eos) ?? tok.ids.eos,
    pad: g.pad !== undefined ? g.pad : tok.ids.pad,
  };
  for (const id of [ids.bos, ...ids.eos, ids.pad]) {
    if (id !== null && !(Number.isInteger(id) && id >= 0 && id < config.vocabSize)) throw new HfExportError('generation', `cannot export: token id ${id} is not in [0, ${config.vocabSize})`);
  }
  const generation: Json = { ...tok.generation };
  if (ids.bos !== null) generation.bos_token_id = ids.bos;
  if (ids.eos.length) generation.eos_token_id = ids.eos.length === 1 ? ids.eos[0] : ids.eos;
  if (ids.pad !== null) generation.pad_token_id = ids.pad;

  const files: Record<string, Uint8Array | string> = {
    ...tok.files,
    [HF_CONFIG_FILE]: json(hfConfigJson(config, modelType, dtype, ids)),
    [HF_WEIGHTS_FILE]: encodeSafetensors(paramsToHf(config, params, dtype), { format: 'pt' }),
    [HF_GENERATION_CONFIG_FILE]: json(generation),
  };
  await writeFolderAtomic(dir, files, 'Hugging Face export');
  return { dir, modelType, files: Object.keys(files).sort(), tokenizer: tok.kind };
}
