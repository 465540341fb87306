import { CheckpointError } from '../errors.ts';
import { readHfModel } from '../hf/read.ts';
import { baseConfig, type ModelConfig } from './config.ts';
import { initParams } from './params.ts';
import { shapeMismatch } from './shape-match.ts';

/**
 * A model's initial parameters, every one of them: the seeded initialisation; for a LoRA model with
 * a `lora.base` folder, that Hugging Face model's weights with freshly initialised adapters (B = 0,
 * so the model starts as its base). Every service computes the same, so only adapters ever travel.
 */
export async function initialParams(c: ModelConfig): Promise<Map<string, Float32Array>> {
  const path = c.lora?.base;
  if (!path) return initParams(c);
  const params = initParams(c, true);
  const base = await readHfModel(path, { context: c.context, seed: c.seed });
  const why = shapeMismatch(baseConfig(c), base.config);
  if (why) throw new CheckpointError(`LoRA base ${path}: ${why}`);
  for (const [k, v] of Object.entries(base.params)) params.set(k, v);
  return params;
}
