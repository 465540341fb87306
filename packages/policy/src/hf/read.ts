/**
 * Import a Hugging Face causal LM from a local folder (nothing is downloaded):
 *
 *   config.json                         model_type qwen2 | llama | qwen3 (see config.ts)
 *   model.safetensors                   one file, or
 *   model.safetensors.index.json        { weight_map: { tensor: shard file } } + the shards
 *
 * Tensors may be BF16, F16, F32 or F64; they become float32 in spar's layout (weights.ts). The
 * result has the shape of a warm-start source (SourceWeights), so anything that takes one can
 * take an imported model. Reading only: the folder is never written.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSafetensors, type CheckpointTensor } from '../checkpoint/safetensors.ts';
import { CheckpointError, type TensorIssue } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { modelConfigFromHf, type HfConfigOptions, type HfModelType } from './config.ts';
import { paramsFromHf } from './weights.ts';

export const HF_CONFIG_FILE = 'config.json';
export const HF_WEIGHTS_FILE = 'model.safetensors';
export const HF_INDEX_FILE = 'model.safetensors.index.json';

export interface HfModel {
  readonly config: ModelConfig;
  readonly params: Record<string, Float32Array>;
  /** The folder the model was read from. */
  readonly from: string;
  readonly modelType: HfModelType;
}

const exists = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() === true;

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CheckpointError(`${path}: cannot be read`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
}

/** All tensors of a sharded checkpoint, and every inconsistency between the index and its shards. */
async function readShards(dir: string): Promise<{ tensors: Record<string, CheckpointTensor>; issues: TensorIssue[] }> {
  const index = await readJson(join(dir, HF_INDEX_FILE));
  const map = index.weight_map as Record<string, unknown> | undefined;
  if (typeof map !== 'object' || map === null) throw new CheckpointError(`${join(dir, HF_INDEX_FILE)}: no weight_map object`);
  const files = [...new Set(Object.values(map))];
  const bad = files.find((f) => typeof f !== 'string' || f.includes('/') || f.includes('\\') || f.startsWith('.'));
  if (bad !== undefined) throw new CheckpointError(`${join(dir, HF_INDEX_FILE)}: shard ${JSON.stringify(bad)} is not a file name in the folder`);
  const tensors: Record<string, CheckpointTensor> = {};
  const issues: TensorIssue[] = [];
  for (const file of files as string[]) {
    const { tensors: shard } = decodeSafetensors(await readFile(join(dir, file)));
    for (const [name, t] of Object.entries(shard)) {
      if (map[name] !== file) {
        const listed = typeof map[name] === 'string' ? `the index places it in ${String(map[name])}` : 'the index does not list it';
        issues.push({ name, kind: Object.hasOwn(tensors, name) ? 'duplicate' : 'unexpected', message: `shard ${file} holds ${name}, but ${listed}` });
        continue;
      }
      tensors[name] = t;
    }
  }
  for (const [name, file] of Object.entries(map)) {
    if (!Object.hasOwn(tensors, name) && !issues.some((i) => i.name === name)) {
      issues.push({ name, kind: 'missing', message: `missing tensor ${name} (the index places it in ${String(file)}, which does not hold it)` });
    }
  }
  return { tensors, issues };
}

/** Read a Hugging Face model folder into spar's config and float32 parameters. */
export async function readHfModel(dir: string, opts: HfConfigOptions = {}): Promise<HfModel> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new CheckpointError(`${dir}: no such folder`);
  const { config, modelType } = modelConfigFromHf(await readJson(join(dir, HF_CONFIG_FILE)), opts);
  let tensors: Record<string, CheckpointTensor>;
  let issues: TensorIssue[] = [];
  let where: string;
  if (await exists(join(dir, HF_WEIGHTS_FILE))) {
    where = join(dir, HF_WEIGHTS_FILE);
    tensors = decodeSafetensors(await readFile(where)).tensors;
  } else if (await exists(join(dir, HF_INDEX_FILE))) {
    where = join(dir, HF_INDEX_FILE);
    ({ tensors, issues } = await readShards(dir));
  } else {
    throw new CheckpointError(`${dir}: neither ${HF_WEIGHTS_FILE} nor ${HF_INDEX_FILE}`);
  }
  return { config, params: paramsFromHf(config, tensors, where, issues), from: dir, modelType };
}
