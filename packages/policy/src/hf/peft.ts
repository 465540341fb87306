/**
 * A LoRA policy's adapters as a PEFT adapter folder (what `PeftModel.from_pretrained(base, dir)`
 * loads on top of the base model):
 *
 *   adapter_config.json        peft_type LORA, r, lora_alpha, target_modules, base_model_name_or_path
 *   adapter_model.safetensors  base_model.model.model.layers.<l>.<self_attn|mlp>.<target>.lora_A.weight [r, in]
 *                              and .lora_B.weight [out, r] ({"format": "pt"})
 *
 * spar keeps A [in, r] and B [r, out] (x·A·B); PEFT's Linear layers store their transposes.
 */
import { encodeSafetensors, type CheckpointTensor } from '../checkpoint/safetensors.ts';
import { writeFolderAtomic } from '../checkpoint/store.ts';
import { HfExportError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { loraA, loraB, loraTargets, targetParam } from '../model/lora.ts';
import { f32ToBf16 } from './dtype.ts';
import { transpose2d as transpose } from './weights.ts';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';

export interface PeftExportOptions {
  /** A LoRA model (config.lora set). */
  readonly config: ModelConfig;
  /** Its adapters (trainableSpecs), float32 in spar's layout. */
  readonly adapters: Readonly<Record<string, Float32Array>>;
  readonly dtype?: 'float32' | 'bfloat16';
  /** base_model_name_or_path (default: the model's lora.base). */
  readonly baseModel?: string;
}

const ATTENTION = new Set(['q_proj', 'k_proj', 'v_proj', 'o_proj']);

/** Writes the adapter folder `dir` (all or nothing); returns the files written. */
export async function writePeftAdapter(dir: string, o: PeftExportOptions): Promise<{ dir: string; files: string[] }> {
  const c = o.config;
  if (!c.lora) throw new HfExportError('lora', 'cannot export a PEFT adapter: the model has no LoRA adapters (policy.lora)');
  const r = c.lora.rank;
  const dtype = o.dtype ?? 'float32';
  const tensors: Record<string, CheckpointTensor> = {};
  const put = (name: string, shape: [number, number], values: Float32Array) => {
    tensors[name] = dtype === 'bfloat16' ? { dtype, shape, data: f32ToBf16(values) } : { dtype, shape, data: values };
  };
  const targets = loraTargets(c);
  for (let l = 0; l < c.layers; l++) {
    for (const t of targets) {
      const param = `layer${l}.${targetParam(c, t)!}`;
      const a = o.adapters[loraA(param)];
      const b = o.adapters[loraB(param)];
      if (!a || !b) throw new HfExportError('lora', `cannot export a PEFT adapter: the adapter of ${param} is missing`);
      const fanIn = a.length / r;
      const fanOut = b.length / r;
      const module = `base_model.model.model.layers.${l}.${ATTENTION.has(t) ? 'self_attn' : 'mlp'}.${t}`;
      put(`${module}.lora_A.weight`, [r, fanIn], transpose(a, fanIn, r));
      put(`${module}.lora_B.weight`, [fanOut, r], transpose(b, r, fanOut));
    }
  }
  const config = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', r, lora_alpha: c.lora.alpha, lora_dropout: 0, bias: 'none',
    target_modules: targets, fan_in_fan_out: false, inference_mode: true, init_lora_weights: true,
    use_rslora: false, use_dora: false, modules_to_save: null, layers_to_transform: null,
    base_model_name_or_path: o.baseModel ?? c.lora.base ?? null,
  };
  const files = {
    [PEFT_CONFIG_FILE]: `${JSON.stringify(config, null, 2)}\n`,
    [PEFT_WEIGHTS_FILE]: encodeSafetensors(tensors, { format: 'pt' }),
  };
  await writeFolderAtomic(dir, files, 'PEFT adapter export');
  return { dir, files: Object.keys(files).sort() };
}
