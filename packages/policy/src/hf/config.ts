/**
 * Hugging Face `config.json` (Qwen2, Llama, Qwen3 and Arcee causal LMs) ↔ spar's ModelConfig.
 *
 * Import: anything that changes what the model computes and that the engine does not implement is
 * refused with an UnsupportedModelError naming it, rather than imported into a model that computes
 * something else. Export: the one model type that computes exactly what a spar model computes
 * (`hfModelTypeFor`), and the config.json keys that type's transformers Config class reads.
 *
 * Arcee (transformers ≥ 4.53) is Llama with a non-gated MLP, `down(act(up(x)))`: with hidden_act
 * `gelu_pytorch_tanh` it is spar's GELU model (`activation: gelu`, the default of from-scratch
 * policies), which Llama's gated MLP cannot express.
 */
import { ConfigError, HfExportError, UnsupportedModelError } from '../errors.ts';
import { headDim, kvHeads, parseModelConfig, ropeTheta, type ModelConfig } from '../model/config.ts';

export const HF_MODEL_TYPES = ['qwen2', 'llama', 'qwen3', 'arcee'] as const;
export type HfModelType = (typeof HF_MODEL_TYPES)[number];

/** transformers' torch.nn.functional.gelu(approximate='tanh'), the ONNX Gelu spar runs. */
const GELU_TANH = 'gelu_pytorch_tanh';

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

const initStd = (v: unknown) => (typeof v === 'number' && v > 0 && v <= 1 ? v : undefined);

/** Read a Hugging Face config.json object into a validated ModelConfig. */
export function modelConfigFromHf(raw: Json, opts: HfConfigOptions = {}): { config: ModelConfig; modelType: HfModelType } {
  const type = raw.model_type;
  if (!HF_MODEL_TYPES.includes(type as HfModelType)) {
    unsupported(`model_type ${String(type)}`, `model_type '${String(type)}' (supported: ${HF_MODEL_TYPES.join(', ')})`);
  }
  const modelType = type as HfModelType;
  const gated = modelType !== 'arcee';
  const act = raw.hidden_act ?? (gated ? 'silu' : 'relu2'); // the Config classes' defaults
  if (gated && act !== 'silu') unsupported(`hidden_act ${String(act)}`, `hidden_act '${String(act)}' (only 'silu', i.e. SwiGLU)`);
  if (!gated && act !== GELU_TANH) unsupported(`hidden_act ${String(act)}`, `hidden_act '${String(act)}' in arcee's non-gated MLP (only '${GELU_TANH}')`);
  if (raw.use_sliding_window === true) unsupported('use_sliding_window', 'sliding-window attention (use_sliding_window: true) is not implemented');
  const layerTypes = raw.layer_types as unknown[] | undefined;
  const other = layerTypes?.find((t) => t !== 'full_attention');
  if (other !== undefined) unsupported(`layer_types ${String(other)}`, `layer type '${String(other)}' (only full_attention)`);
  // Qwen2 always has q/k/v biases and no o bias; in Llama, Qwen3 and Arcee, attention_bias adds all four.
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
    activation: gated ? 'swiglu' : 'gelu',
    normEps: (raw.rms_norm_eps as number | undefined) ?? (gated ? 1e-6 : 1e-5), // the Config classes' defaults
    ropeTheta: theta,
    attnBias: modelType === 'qwen2',
    qkNorm: modelType === 'qwen3',
    tieEmbeddings: raw.tie_word_embeddings === true,
    // The std of fresh weights only (it changes nothing an imported model computes); kept when valid.
    ...(initStd(raw.initializer_range) !== undefined ? { initStd: initStd(raw.initializer_range) } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
  });
  return { config, modelType };
}

// ----------------------------------------------------------------------------- export

const ARCHITECTURES: Readonly<Record<HfModelType, string>> = {
  qwen2: 'Qwen2ForCausalLM', llama: 'LlamaForCausalLM', qwen3: 'Qwen3ForCausalLM', arcee: 'ArceeForCausalLM',
};

const SHAPES: Readonly<Record<HfModelType, string>> = {
  llama: 'gated SwiGLU MLP, no q/k/v biases, no q/k norms',
  qwen2: 'gated SwiGLU MLP, q/k/v biases',
  qwen3: 'gated SwiGLU MLP, q/k norms',
  arcee: 'non-gated GELU MLP',
};

function refuse(feature: string, message: string): never {
  throw new HfExportError(feature, `cannot export as a Hugging Face model: ${message}`);
}

/**
 * The Hugging Face model type that computes exactly what `c` computes: qkNorm → qwen3, attnBias →
 * qwen2, GELU → arcee, otherwise llama. `asked` may name another type only where that type is
 * exact too: qwen2 for a llama-shaped model (its q/k/v biases are then written as zeros). Anything
 * else throws an HfExportError naming the feature.
 */
export function hfModelTypeFor(c: ModelConfig, asked?: HfModelType): HfModelType {
  if (c.positions === 'learned') refuse('positions learned', 'learned position embeddings (the supported model types use rotary positions only)');
  let fit: HfModelType;
  if (c.activation === 'gelu') {
    if (c.attnBias || c.qkNorm) refuse(`activation gelu with ${c.attnBias ? 'attnBias' : 'qkNorm'}`, `a GELU MLP with ${c.attnBias ? 'q/k/v biases' : 'q/k norms'} (arcee, the one type with a non-gated MLP, has no q/k-only biases and no q/k norms)`);
    fit = 'arcee';
  } else if (c.attnBias && c.qkNorm) {
    refuse('attnBias with qkNorm', 'q/k/v biases together with q/k norms (Qwen3\'s attention_bias adds an o_proj bias spar does not have)');
  } else {
    fit = c.qkNorm ? 'qwen3' : c.attnBias ? 'qwen2' : 'llama';
  }
  const type = asked ?? fit;
  if (type !== fit && !(type === 'qwen2' && fit === 'llama')) refuse(`modelType ${type}`, `this model computes as ${fit} (${SHAPES[fit]}), not as ${type} (${SHAPES[type]})`);
  // transformers 5's LlamaConfig and ArceeConfig refuse a hidden size that the heads do not divide.
  if ((type === 'llama' || type === 'arcee') && c.dModel % c.heads !== 0) refuse(`heads ${c.heads}`, `${type} needs hidden_size (${c.dModel}) divisible by num_attention_heads (${c.heads})`);
  return type;
}

/** Token ids config.json and generation_config.json name (null: none). */
export interface HfSpecialIds {
  readonly bos: number | null;
  /** The first is config.json's eos_token_id; generation_config.json lists them all. */
  readonly eos: readonly number[];
  readonly pad: number | null;
}

/**
 * The config.json of `c` as a `type` model (`hfModelTypeFor` chose or checked it): the keys that
 * type's Config class and modelling code read (Qwen2 reads head_dim with getattr), rope given both
 * ways (rope_theta for transformers 4, rope_parameters for 5), every id written even when null
 * (Arcee's Config would otherwise default to Llama 3's 128000/128001). `attnBias` must already be
 * on for qwen2.
 */
export function hfConfigJson(c: ModelConfig, type: HfModelType, torchDtype: 'float32' | 'bfloat16', ids: HfSpecialIds): Json {
  const theta = ropeTheta(c);
  const cfg: Json = {
    architectures: [ARCHITECTURES[type]],
    model_type: type,
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    intermediate_size: c.ffn,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: kvHeads(c),
    head_dim: headDim(c),
    hidden_act: c.activation === 'gelu' ? GELU_TANH : 'silu',
    max_position_embeddings: c.context,
    rms_norm_eps: c.normEps,
    rope_theta: theta,
    rope_parameters: { rope_type: 'default', rope_theta: theta },
    tie_word_embeddings: c.tieEmbeddings,
    initializer_range: c.initStd,
    attention_dropout: 0,
    use_cache: true,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos[0] ?? null,
    pad_token_id: ids.pad,
    torch_dtype: torchDtype,
  };
  if (type !== 'qwen2') cfg.attention_bias = false;
  if (type === 'llama' || type === 'arcee') cfg.mlp_bias = false;
  if (type === 'llama') cfg.pretraining_tp = 1;
  if (type === 'qwen2' || type === 'qwen3') {
    Object.assign(cfg, { use_sliding_window: false, sliding_window: null, max_window_layers: c.layers, layer_types: Array.from({ length: c.layers }, () => 'full_attention') });
  }
  return cfg;
}
