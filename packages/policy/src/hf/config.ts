/**
 * A Hugging Face `config.json` (Qwen2, Llama, Qwen3 causal LMs) → spar's ModelConfig. Anything
 * that changes what the model computes and that the engine does not implement is refused with an
 * UnsupportedModelError naming it, rather than imported into a model that computes something else.
 */
import { ConfigError, UnsupportedModelError } from '../errors.ts';
import { parseModelConfig, type ModelConfig } from '../model/config.ts';

export const HF_MODEL_TYPES = ['qwen2', 'llama', 'qwen3'] as const;
export type HfModelType = (typeof HF_MODEL_TYPES)[number];

/** The engine's longest context (ModelConfigSchema's maximum). */
const MAX_CONTEXT = 8192;

export interface HfConfigOptions {
  /** Context of the imported policy (default min(max_position_embeddings, 8192)); it sizes the RoPE tables and KV caches. */
  readonly context?: number;
  /** Seed of the imported config (unused by its weights; kept for a later re-initialisation). */
  readonly seed?: number;
}

type Json = Record<string, unknown>;

function unsupported(feature: string, message: string): never {
  throw new UnsupportedModelError(feature, `unsupported Hugging Face model: ${message}`);
}

/** The rope type and theta, from the pre-v5 keys (rope_theta, rope_scaling) or v5's rope_parameters. */
function rope(raw: Json): number {
  const params = (raw.rope_parameters ?? undefined) as Json | undefined;
  const scaling = (raw.rope_scaling ?? undefined) as Json | undefined;
  for (const [key, r] of [['rope_scaling', scaling], ['rope_parameters', params]] as const) {
    if (r === undefined) continue;
    const type = r.rope_type ?? r.type ?? 'default';
    if (type !== 'default') unsupported(`${key}.${String(type)}`, `${key} type '${String(type)}' is not implemented (only plain RoPE, rope_type 'default')`);
  }
  const partial = raw.partial_rotary_factor ?? params?.partial_rotary_factor;
  if (partial !== undefined && partial !== 1) unsupported('partial_rotary_factor', `partial_rotary_factor ${String(partial)} is not implemented (only 1)`);
  const theta = raw.rope_theta ?? params?.rope_theta ?? 10000;
  return Number(theta);
}

/** Read a Hugging Face config.json object into a validated ModelConfig. */
export function modelConfigFromHf(raw: Json, opts: HfConfigOptions = {}): { config: ModelConfig; modelType: HfModelType } {
  const type = raw.model_type;
  if (!HF_MODEL_TYPES.includes(type as HfModelType)) {
    unsupported(`model_type ${String(type)}`, `model_type '${String(type)}' (supported: ${HF_MODEL_TYPES.join(', ')})`);
  }
  const modelType = type as HfModelType;
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') unsupported(`hidden_act ${String(act)}`, `hidden_act '${String(act)}' (only 'silu', i.e. SwiGLU)`);
  if (raw.use_sliding_window === true) unsupported('use_sliding_window', 'sliding-window attention (use_sliding_window: true) is not implemented');
  const layerTypes = raw.layer_types as unknown[] | undefined;
  const other = layerTypes?.find((t) => t !== 'full_attention');
  if (other !== undefined) unsupported(`layer_types ${String(other)}`, `layer type '${String(other)}' (only full_attention)`);
  // Qwen2 always has q/k/v biases and no o bias; in Llama and Qwen3, attention_bias adds all four.
  if (modelType !== 'qwen2' && raw.attention_bias === true) unsupported('attention_bias', 'attention_bias: true (an o_proj bias is not implemented)');
  if (raw.mlp_bias === true) unsupported('mlp_bias', 'mlp_bias: true is not implemented');
  const theta = rope(raw);

  const need = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings'];
  const absent = need.filter((k) => typeof raw[k] !== 'number');
  if (absent.length) throw new ConfigError('Hugging Face config.json', absent.map((k) => ({ path: `/${k}`, message: 'required number missing' })));
  const num = (k: string) => raw[k] as number;
  const context = opts.context ?? Math.min(num('max_position_embeddings'), MAX_CONTEXT);
  const heads = num('num_attention_heads');
  const config = parseModelConfig({
    vocabSize: num('vocab_size'),
    layers: num('num_hidden_layers'),
    dModel: num('hidden_size'),
    heads,
    kvHeads: (raw.num_key_value_heads as number | undefined) ?? heads,
    headDim: (raw.head_dim as number | undefined) ?? num('hidden_size') / heads,
    ffn: num('intermediate_size'),
    context,
    positions: 'rotary',
    activation: 'swiglu',
    normEps: (raw.rms_norm_eps as number | undefined) ?? 1e-6,
    ropeTheta: theta,
    attnBias: modelType === 'qwen2',
    qkNorm: modelType === 'qwen3',
    tieEmbeddings: raw.tie_word_embeddings === true,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
  });
  return { config, modelType };
}
