/**
 * Hugging Face tensor names and layouts ↔ spar parameters, both ways from one table (`hfSlots`).
 * HF's nn.Linear stores its weight [out, in] and computes x·Wᵀ; spar stores [in, out] and computes
 * x·W, so every projection (and an untied lm_head) is transposed. Norm weights, biases and the
 * embedding keep their layout.
 *
 * The import check is strict and complete: every missing, unexpected, mis-shaped or non-float
 * tensor is collected and reported in one HfWeightsError.
 */
import type { CheckpointTensor } from '../checkpoint/safetensors.ts';
import { HfWeightsError, type TensorIssue } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { paramSpecs } from '../model/params.ts';
import { f32ToBf16, toFloat32 } from './dtype.ts';

interface Slot {
  readonly param: string;
  readonly hf: string;
  /** The shape HF stores. */
  readonly shape: readonly number[];
  readonly transpose: boolean;
}

const LAYER_NAMES: Readonly<Record<string, [hf: string, transpose: boolean]>> = {
  attnNorm: ['input_layernorm.weight', false],
  wq: ['self_attn.q_proj.weight', true],
  wk: ['self_attn.k_proj.weight', true],
  wv: ['self_attn.v_proj.weight', true],
  wo: ['self_attn.o_proj.weight', true],
  bq: ['self_attn.q_proj.bias', false],
  bk: ['self_attn.k_proj.bias', false],
  bv: ['self_attn.v_proj.bias', false],
  qNorm: ['self_attn.q_norm.weight', false],
  kNorm: ['self_attn.k_norm.weight', false],
  mlpNorm: ['post_attention_layernorm.weight', false],
  w1: ['mlp.gate_proj.weight', true],
  w3: ['mlp.up_proj.weight', true],
  w2: ['mlp.down_proj.weight', true],
};
/** A non-gated (GELU) MLP has no gate: its input projection is up_proj (Arcee's MLP). */
const NON_GATED_NAMES: Readonly<Record<string, [hf: string, transpose: boolean]>> = {
  w1: ['mlp.up_proj.weight', true],
};
const TOP_NAMES: Readonly<Record<string, [hf: string, transpose: boolean]>> = {
  embed: ['model.embed_tokens.weight', false],
  finalNorm: ['model.norm.weight', false],
  head: ['lm_head.weight', true],
};

/** HF buffers some exporters save that carry no weights (recomputed from the config). */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

/** Where each parameter of `c` lives in a Hugging Face checkpoint, in paramSpecs order. */
export function hfSlots(c: ModelConfig): Slot[] {
  return paramSpecs(c).map((p) => {
    const m = /^layer(\d+)\.(.+)$/.exec(p.name);
    const entry = m ? ((c.activation === 'gelu' ? NON_GATED_NAMES[m[2]!] : undefined) ?? LAYER_NAMES[m[2]!]) : TOP_NAMES[p.name];
    if (!entry) throw new Error(`no Hugging Face name for parameter ${p.name}`);
    const [hf, transpose] = entry;
    return {
      param: p.name,
      hf: m ? `model.layers.${m[1]}.${hf}` : hf,
      shape: transpose ? [...p.shape].reverse() : [...p.shape],
      transpose,
    };
  });
}

/** [rows, cols] row-major → [cols, rows]. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
function sameValues(a: CheckpointTensor, b: CheckpointTensor): boolean {
  if (a.dtype !== b.dtype || !same(a.shape, b.shape)) return false;
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
}

/**
 * The spar parameters (float32, spar layout) of a model `c` from HF-named tensors. `where` names
 * the source in errors; `prior` are issues already found (a shard index's), reported together.
 */
export function paramsFromHf(
  c: ModelConfig, tensors: Readonly<Record<string, CheckpointTensor>>, where: string, prior: readonly TensorIssue[] = [],
): Record<string, Float32Array> {
  const issues: TensorIssue[] = [...prior];
  const slots = hfSlots(c);
  const known = new Set(slots.map((s) => s.hf));
  for (const name of Object.keys(tensors).sort()) {
    if (known.has(name) || IGNORED.test(name)) continue;
    // A tied model may still carry lm_head.weight; harmless only if it is the embedding itself.
    if (name === 'lm_head.weight' && c.tieEmbeddings && tensors['model.embed_tokens.weight'] && sameValues(tensors[name]!, tensors['model.embed_tokens.weight'])) continue;
    const why = name === 'lm_head.weight' && c.tieEmbeddings ? ' (tie_word_embeddings is true but it differs from model.embed_tokens.weight)' : '';
    issues.push({ name, kind: 'unexpected', message: `unexpected tensor ${name}${why}` });
  }
  const params: Record<string, Float32Array> = {};
  for (const s of slots) {
    const t = Object.hasOwn(tensors, s.hf) ? tensors[s.hf] : undefined;
    if (!t) {
      issues.push({ name: s.hf, kind: 'missing', message: `missing tensor ${s.hf} (expected shape ${fmt(s.shape)})` });
      continue;
    }
    if (!same(t.shape, s.shape)) {
      issues.push({ name: s.hf, kind: 'shape', message: `tensor ${s.hf} has shape ${fmt(t.shape)}, expected ${fmt(s.shape)}` });
      continue;
    }
    const f = toFloat32(t);
    if (!f) {
      issues.push({ name: s.hf, kind: 'dtype', message: `tensor ${s.hf} is ${t.dtype}; expected a float type (BF16, F16, F32, F64)` });
      continue;
    }
    params[s.param] = s.transpose ? transpose2d(f, s.shape[0]!, s.shape[1]!) : f;
  }
  if (issues.length) throw new HfWeightsError(where, issues);
  return params;
}

/**
 * HF-named tensors in HF's layout from spar parameters (float32, spar layout): the inverse of
 * paramsFromHf, as float32 (bit for bit) or BF16 (rounded as PyTorch rounds). A tied model has no
 * lm_head.weight, as transformers saves it. `params` must hold every parameter of `c`.
 */
export function paramsToHf(c: ModelConfig, params: Readonly<Record<string, Float32Array>>, dtype: 'float32' | 'bfloat16'): Record<string, CheckpointTensor> {
  const out: Record<string, CheckpointTensor> = {};
  for (const s of hfSlots(c)) {
    const p = params[s.param]!;
    // spar's [in, out] is HF's shape reversed.
    const values = s.transpose ? transpose2d(p, s.shape[1]!, s.shape[0]!) : p;
    out[s.hf] = dtype === 'bfloat16' ? { dtype, shape: s.shape, data: f32ToBf16(values) } : { dtype, shape: s.shape, data: values };
  }
  return out;
}
