import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../errors.ts';
import { parseConfig } from '../validate.ts';

const Int = (min: number, max: number, def: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description });

/** Decoder-only transformer hyper-parameters. One schema serves config files, HTTP and docs. */
export const ModelConfigSchema = Type.Object({
  vocabSize: Int(2, 1 << 20, 64, 'number of token ids (from the vocabulary)'),
  layers: Int(1, 64, 2, 'transformer blocks'),
  dModel: Int(4, 8192, 64, 'residual width'),
  heads: Int(1, 128, 4, 'attention heads (dModel must divide evenly)'),
  ffn: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, description: 'MLP hidden width (default 4·dModel)' })),
  context: Int(2, 8192, 64, 'maximum sequence length (prompt + generation)'),
  positions: Type.Union([Type.Literal('learned'), Type.Literal('rotary')], { default: 'rotary' }),
  activation: Type.Union([Type.Literal('gelu'), Type.Literal('swiglu')], { default: 'gelu' }),
  normEps: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-5 }),
  initStd: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.02 }),
  tieEmbeddings: Type.Boolean({ default: false, description: 'share the embedding matrix with the output head' }),
  seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 1 }),
}, { additionalProperties: false });

export type ModelConfigInput = Partial<Static<typeof ModelConfigSchema>>;
export interface ModelConfig extends Static<typeof ModelConfigSchema> {
  readonly ffn: number;
}

export function parseModelConfig(input: unknown): ModelConfig {
  const c = parseConfig(ModelConfigSchema, input, 'model config');
  if (c.dModel % c.heads !== 0) throw new ConfigError('model config', [{ path: '/heads', message: `dModel ${c.dModel} is not divisible by heads ${c.heads}` }]);
  if (c.positions === 'rotary' && (c.dModel / c.heads) % 2 !== 0) {
    throw new ConfigError('model config', [{ path: '/heads', message: 'rotary positions need an even head width' }]);
  }
  return Object.freeze({ ...c, ffn: c.ffn ?? 4 * c.dModel });
}

export function headDim(c: ModelConfig): number {
  return c.dModel / c.heads;
}
