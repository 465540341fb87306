/**
 * An imported Hugging Face model as the services see it, without its weights: the model config
 * (the shape from config.json, the context spar runs it with) and a TextCodec over its tokenizer.
 * Every service of an experiment with `warmStart.from: hf` loads this from the same folder; only
 * the learner reads the weights as well (readHfModel). Reading only; native-free (no engine).
 *
 *   <dir>/config.json                          the shape (modelConfigFromHf; unsupported types refused)
 *   <dir>/model.safetensors | .index.json      must exist (read by the learner alone)
 *   <dir>/tokenizer.json (+ tokenizer_config.json, chat template, generation_config.json)
 *
 * The codec's ids are the model's: the tokenizer may hold fewer tokens than the embedding has
 * rows, never more, and it must name at least one eos token (a generation must be able to end).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, HfTokenizerError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { UnknownTokenIdError } from '../vocab/vocabulary.ts';
import type { TextCodec } from '../vocab/text-codec.ts';
import { modelConfigFromHf, type HfModelType } from './config.ts';
import { loadHfTokenizer, HF_TOKENIZER_FILE, type HfTokenizer } from './tokenizer.ts';

/** The context spar runs an imported model with when the experiment sets none: min(max_position_embeddings, this). */
export const HF_TEXT_CONTEXT = 1024;

const CONFIG_FILE = 'config.json';
const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json'] as const;

export interface HfTextModel {
  readonly dir: string;
  readonly config: ModelConfig;
  readonly modelType: HfModelType;
  readonly codec: TextCodec;
}

export interface HfTextModelOptions {
  /** Context to run the model with; default min(max_position_embeddings, HF_TEXT_CONTEXT). */
  readonly context?: number;
  readonly seed?: number;
}

const isFile = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() === true;

/** The text codec of a Hugging Face tokenizer for a model with `modelVocabSize` embedding rows. */
export function hfTextCodec(tokenizer: HfTokenizer, modelVocabSize: number): TextCodec {
  return {
    size: modelVocabSize,
    eos: tokenizer.eos,
    encode: (text) => tokenizer.encode(text, { addSpecialTokens: false }),
    decode(ids, opts = {}) {
      const o = { skipSpecialTokens: opts.skipSpecialTokens ?? false };
      const list = Array.from(ids);
      try {
        return tokenizer.decode(list, o);
      } catch (e) {
        if (!(e instanceof UnknownTokenIdError)) throw e;
      }
      // Some id has no token (an embedding padding row): decode the runs between such ids, each one U+FFFD.
      const known = (id: number) => { try { tokenizer.decode([id]); return true; } catch { return false; } };
      let out = '';
      let run: number[] = [];
      for (const id of list) {
        if (known(id)) { run.push(id); continue; }
        out += tokenizer.decode(run, o) + '\uFFFD';
        run = [];
      }
      return out + tokenizer.decode(run, o);
    },
    renderChat: (messages, opts = {}) => tokenizer.applyChatTemplate(messages, { addGenerationPrompt: opts.addGenerationPrompt ?? true }),
    encodeChat(messages, opts = {}) {
      return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: opts.addGenerationPrompt ?? true }), { addSpecialTokens: false });
    },
  };
}

/**
 * Reads `dir`'s config.json and tokenizer into an HfTextModel; throws a CheckpointError naming
 * what is missing (the folder, config.json, the weights), an UnsupportedModelError or ConfigError
 * for a config spar cannot run, an HfTokenizerError for a missing or unusable tokenizer.
 */
export async function loadHfTextModel(dir: string, opts: HfTextModelOptions = {}): Promise<HfTextModel> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new CheckpointError(`${dir}: no such folder`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${dir}: no ${CONFIG_FILE} (not a Hugging Face model folder)` : `${join(dir, CONFIG_FILE)}: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CheckpointError(`${join(dir, CONFIG_FILE)}: not a JSON object`);
  let hasWeights = false;
  for (const f of WEIGHT_FILES) hasWeights ||= await isFile(join(dir, f));
  if (!hasWeights) throw new CheckpointError(`${dir}: no weights (neither ${WEIGHT_FILES.join(' nor ')})`);
  const maxPositions = typeof raw.max_position_embeddings === 'number' ? raw.max_position_embeddings : HF_TEXT_CONTEXT;
  const context = opts.context ?? Math.min(maxPositions, HF_TEXT_CONTEXT);
  const { config, modelType } = modelConfigFromHf(raw, { context, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  if (!(await isFile(join(dir, HF_TOKENIZER_FILE)))) throw new HfTokenizerError(join(dir, HF_TOKENIZER_FILE), 'missing: a text model needs the tokenizer.json of the model');
  const tokenizer = await loadHfTokenizer(dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new HfTokenizerError(join(dir, HF_TOKENIZER_FILE), `has ${tokenizer.vocabSize} tokens, more than the model's vocab_size ${config.vocabSize}`);
  }
  if (tokenizer.eos.length === 0) throw new HfTokenizerError(join(dir, HF_TOKENIZER_FILE), 'names no eos token (tokenizer_config.json eos_token or generation_config.json eos_token_id): a generation could never end');
  return { dir, config, modelType, codec: hfTextCodec(tokenizer, config.vocabSize) };
}
