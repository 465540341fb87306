/**
 * A Hugging Face tokenizer read from a local model folder (nothing is downloaded):
 *
 *   tokenizer.json            required; the tokenizers-crate format, run by @huggingface/tokenizers
 *   tokenizer_config.json     optional; chat_template, bos/eos/pad/unk_token, add_bos_token,
 *                             add_eos_token, additional_special_tokens
 *   special_tokens_map.json   optional; its token entries override tokenizer_config.json's, as in
 *                             transformers' from_pretrained
 *   chat_template.jinja       optional; wins over tokenizer_config.json's chat_template
 *   generation_config.json    optional; eos_token_id (a number or a list) adds stop ids,
 *                             pad_token_id is the pad id when the tokenizer names none
 *
 * Tokens may be given as strings or as `{ content, ... }` objects (AddedToken dumps). A named
 * special token that is not in the vocabulary is an error, not a silent null. Reading only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { HfTokenizerError } from '../errors.ts';
import { UnknownTokenIdError } from '../vocab/vocabulary.ts';
import { ChatTemplateRenderer, parseChatTemplates, type ChatMessage, type ChatTemplateOptions } from './chat-template.ts';

export const HF_TOKENIZER_FILE = 'tokenizer.json';
export const HF_TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const HF_SPECIAL_TOKENS_FILE = 'special_tokens_map.json';
export const HF_CHAT_TEMPLATE_FILE = 'chat_template.jinja';
export const HF_GENERATION_CONFIG_FILE = 'generation_config.json';

export interface HfEncodeOptions {
  /** Let the tokenizer add its special tokens (post-processor, add_bos_token). Default true, as in transformers. */
  readonly addSpecialTokens?: boolean;
}

export interface HfDecodeOptions {
  /** Leave out tokens marked special (`<|im_end|>`, ...). Default false. */
  readonly skipSpecialTokens?: boolean;
}

export interface HfTokenizer {
  /** One more than the largest id, added tokens included (Qwen3: 151,669; its embedding has 151,936 rows). */
  readonly vocabSize: number;
  /** The tokenizer's bos_token, or null when it has none (Qwen). */
  readonly bos: number | null;
  /** Stop ids: the tokenizer's eos_token, then generation_config.json's eos_token_id not already listed. */
  readonly eos: readonly number[];
  /** The tokenizer's pad_token, else generation_config.json's pad_token_id, else null. */
  readonly pad: number | null;
  /** Names of the chat templates the folder ships (`default` for a single one). */
  readonly chatTemplates: readonly string[];
  encode(text: string, opts?: HfEncodeOptions): Int32Array;
  decode(ids: ArrayLike<number>, opts?: HfDecodeOptions): string;
  /** The id of a token string (vocabulary or added token), or undefined. */
  tokenId(token: string): number | undefined;
  /** Renders the model's chat template; throws ChatTemplateError when there is none. */
  applyChatTemplate(messages: readonly ChatMessage[], opts?: ChatTemplateOptions): string;
}

type Json = Record<string, unknown>;
const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HfTokenizerError(path, `cannot be read: ${(e as Error).message}`);
  }
}

/** The JSON object in `path`, or undefined when the file does not exist. */
async function readJsonObject(path: string): Promise<Json | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HfTokenizerError(path, `is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HfTokenizerError(path, 'is not a JSON object');
  return value as Json;
}

/** A token as tokenizer_config.json writes it: a string, an AddedToken object, or null. */
function tokenContent(value: unknown, path: string, key: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  const content = (value as { content?: unknown }).content;
  if (typeof content === 'string') return content;
  throw new HfTokenizerError(path, `${key} must be a string or { content: string }`);
}

/** eos_token_id / pad_token_id of generation_config.json as a list of ids. */
function idList(value: unknown, path: string, key: string): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => Number.isInteger(v) && (v as number) >= 0)) throw new HfTokenizerError(path, `${key} must be a token id or a list of them`);
  return list as number[];
}

/**
 * The effective tokenizer config: tokenizer_config.json with special_tokens_map.json's token
 * entries over it, every token entry reduced to its string (or removed when null).
 */
function mergeConfigs(config: Json, specialMap: Json | undefined, dir: string): Json {
  const out: Json = { ...config };
  const configPath = join(dir, HF_TOKENIZER_CONFIG_FILE);
  const mapPath = join(dir, HF_SPECIAL_TOKENS_FILE);
  for (const key of SPECIAL_KEYS) {
    const fromMap = specialMap && key in specialMap ? tokenContent(specialMap[key], mapPath, key) : undefined;
    const token = fromMap ?? tokenContent(config[key], configPath, key);
    if (token === null) delete out[key];
    else out[key] = token;
  }
  const extra = specialMap?.additional_special_tokens ?? config.additional_special_tokens;
  if (extra !== undefined) {
    const where = specialMap?.additional_special_tokens !== undefined ? mapPath : configPath;
    if (!Array.isArray(extra)) throw new HfTokenizerError(where, 'additional_special_tokens must be a list');
    out.additional_special_tokens = extra.map((t, i) => tokenContent(t, where, `additional_special_tokens[${i}]`));
  }
  return out;
}

/** Reads and checks the tokenizer of the model folder `dir`. */
export async function loadHfTokenizer(dir: string): Promise<HfTokenizer> {
  const tokenizerPath = join(dir, HF_TOKENIZER_FILE);
  const tokenizerJson = await readJsonObject(tokenizerPath);
  if (!tokenizerJson) throw new HfTokenizerError(tokenizerPath, 'missing: a Hugging Face tokenizer folder needs tokenizer.json (the slow-tokenizer files alone are not supported)');
  const configPath = join(dir, HF_TOKENIZER_CONFIG_FILE);
  const rawConfig = (await readJsonObject(configPath)) ?? {};
  const config = mergeConfigs(rawConfig, await readJsonObject(join(dir, HF_SPECIAL_TOKENS_FILE)), dir);
  const generationPath = join(dir, HF_GENERATION_CONFIG_FILE);
  const generation = (await readJsonObject(generationPath)) ?? {};
  const generationEos = idList(generation.eos_token_id, generationPath, 'eos_token_id');
  const generationPad = idList(generation.pad_token_id, generationPath, 'pad_token_id');
  const jinja = await readText(join(dir, HF_CHAT_TEMPLATE_FILE));

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, config);
  } catch (e) {
    throw new HfTokenizerError(tokenizerPath, `cannot be loaded: ${(e as Error).message}`);
  }
  const idOf = (key: (typeof SPECIAL_KEYS)[number]): number | null => {
    const token = config[key] as string | undefined;
    if (token === undefined) return null;
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new HfTokenizerError(configPath, `${key} ${JSON.stringify(token)} (from tokenizer_config.json or special_tokens_map.json) is not in the vocabulary`);
    return id;
  };
  const bos = idOf('bos_token');
  const eosToken = idOf('eos_token');
  const eos = [...new Set([...(eosToken === null ? [] : [eosToken]), ...generationEos])];
  const pad = idOf('pad_token') ?? generationPad[0] ?? null;
  let vocabSize = 0;
  for (const id of tokenizer.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  for (const [key, ids] of [['eos_token_id', generationEos], ['pad_token_id', generationPad]] as const) {
    for (const id of ids) if (id >= vocabSize) throw new HfTokenizerError(generationPath, `${key} ${id} is not below the vocabulary size ${vocabSize}`);
  }

  const templates = jinja !== undefined
    ? parseChatTemplates(jinja, join(dir, HF_CHAT_TEMPLATE_FILE))
    : parseChatTemplates(rawConfig.chat_template, configPath);
  const specials: Json = {};
  for (const key of [...SPECIAL_KEYS, 'additional_special_tokens'] as const) if (config[key] !== undefined) specials[key] = config[key];
  const renderer = new ChatTemplateRenderer(templates, specials, dir);
  const addBos = rawConfig.add_bos_token === true ? bos : null;
  const addEos = rawConfig.add_eos_token === true ? eosToken : null;

  return {
    vocabSize, bos, eos, pad,
    chatTemplates: renderer.names,
    encode(text, opts = {}) {
      const add = opts.addSpecialTokens ?? true;
      const ids = tokenizer.encode(text, { add_special_tokens: add }).ids;
      // transformers rebuilds the post-processor of Llama-style tokenizers from add_bos_token /
      // add_eos_token; tokenizers.js reads only tokenizer.json's. Add what it left out.
      if (add && addBos !== null && ids[0] !== addBos) ids.unshift(addBos);
      if (add && addEos !== null && ids[ids.length - 1] !== addEos) ids.push(addEos);
      return Int32Array.from(ids);
    },
    decode(ids, opts = {}) {
      const list = Array.from(ids);
      list.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || tokenizer.id_to_token(id) === undefined) throw new UnknownTokenIdError(id, vocabSize, i);
      });
      if (list.length === 0) return '';
      return tokenizer.decode(list, { skip_special_tokens: opts.skipSpecialTokens ?? false });
    },
    tokenId: (token) => tokenizer.token_to_id(token),
    applyChatTemplate: (messages, opts) => renderer.render(messages, opts),
  };
}
