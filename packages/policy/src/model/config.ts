import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../errors.ts';
import { parseConfig } from '../validate.ts';
import { ModelLoraSchema, targetParam } from './lora.ts';

const Int = (min: number, max: number, def: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });

/** Decoder-only transformer hyper-parameters. One schema serves config files, HTTP and docs. */
export const ModelConfigSchema = Type.Object({
  vocabSize: Int(2, 1 << 20, 64, 'number of token ids (from the vocabulary)'),
  layers: Int(1, 64, 2, 'transformer blocks'),
  dModel: Int(4, 8192, 64, 'residual width'),
  heads: Int(1, 128, 4, 'attention heads (dModel must divide evenly unless headDim is given)'),
  kvHeads: Type.Optional(Type.Integer({ minimum: 1, maximum: 128, description: 'key/value heads, grouped-query attention (default heads; heads must be a multiple)' })),
  headDim: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'width of one attention head (default dModel/heads)' })),
  ffn: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, description: 'MLP hidden width (default 4·dModel)' })),
  context: Int(2, 8192, 64, 'maximum sequence length (prompt + generation)'),
  positions: Type.Union([Type.Literal('learned'), Type.Literal('rotary')], { default: 'rotary' }),
  ropeTheta: Type.Optional(Type.Number({ exclusiveMinimum: 1, maximum: 1e9, description: 'rotary base (default 10000)' })),
  attnBias: Type.Optional(Type.Boolean({ description: 'biases on the query/key/value projections, as in Qwen2 (default false)' })),
  qkNorm: Type.Optional(Type.Boolean({ description: 'RMSNorm over each head of queries and keys before rotation, as in Qwen3 (default false)' })),
  activation: Type.Union([Type.Literal('gelu'), Type.Literal('swiglu')], { default: 'gelu' }),
  normEps: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-5 }),
  initStd: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.02 }),
  tieEmbeddings: Type.Boolean({ default: false, description: 'share the embedding matrix with the output head' }),
  seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 1 }),
  lora: Type.Optional(ModelLoraSchema),
}, { additionalProperties: false });

export type ModelConfigInput = Partial<Static<typeof ModelConfigSchema>>;
export interface ModelConfig extends Static<typeof ModelConfigSchema> {
  readonly ffn: number;
}

// The architecture options (kvHeads, headDim, ropeTheta, attnBias, qkNorm) have no schema
// default on purpose: a config that does not name them parses to the same object as before they
// existed, so saved checkpoints, experiment configs and their hashes are unchanged. Read them
// through the functions below, which apply the defaults.
export function parseModelConfig(input: unknown): ModelConfig {
  const c = parseConfig(ModelConfigSchema, input, 'model config');
  const bad = (path: string, message: string) => new ConfigError('model config', [{ path, message }]);
  if (c.headDim === undefined && c.dModel % c.heads !== 0) throw bad('/heads', `dModel ${c.dModel} is not divisible by heads ${c.heads}`);
  if (c.kvHeads !== undefined && c.heads % c.kvHeads !== 0) throw bad('/kvHeads', `heads ${c.heads} is not a multiple of kvHeads ${c.kvHeads}`);
  if (c.positions === 'rotary' && (c.headDim ?? c.dModel / c.heads) % 2 !== 0) {
    throw bad(c.headDim === undefined ? '/heads' : '/headDim', 'rotary positions need an even head width');
  }
  const noTarget = c.lora?.targets?.find((t) => targetParam(c, t) === undefined);
  if (noTarget) throw bad('/lora/targets', `${noTarget}: this model has no such projection (a non-gated ${c.activation} MLP has up_proj and down_proj only)`);
  return Object.freeze({ ...c, ffn: c.ffn ?? 4 * c.dModel });
}

/** The model without its adapters (the base a LoRA model adapts; the model itself otherwise). */
export function baseConfig(c: ModelConfig): ModelConfig {
  if (!c.lora) return c;
  const { lora: _lora, ...base } = c;
  return Object.freeze(base) as ModelConfig;
}

/** Width of one attention head. */
export function headDim(c: ModelConfig): number {
  return c.headDim ?? c.dModel / c.heads;
}

/** Key/value heads (each serves heads/kvHeads query heads). */
export function kvHeads(c: ModelConfig): number {
  return c.kvHeads ?? c.heads;
}

/** Base of the rotary angles. */
export function ropeTheta(c: ModelConfig): number {
  return c.ropeTheta ?? 10000;
}
