import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { latestCheckpoint } from './checkpoint/store.ts';
import { CheckpointError } from './errors.ts';
import { parseModelConfig, type ModelConfig } from './model/config.ts';
import { initialParams } from './model/lora-base.ts';
import { mergeLora } from './model/lora-merge.ts';
import { paramSpecs } from './model/params.ts';
import { readPolicyCheckpoint } from './persist.ts';

const { onnx } = onnxProto;

/** Weights of an earlier policy, without building a runtime for them (a warm start's source). */
export interface SourceWeights {
  readonly config: ModelConfig;
  readonly params: Record<string, Float32Array>;
  /** The folder the weights were read from (a checkpoint step, or an export). */
  readonly from: string;
}

/**
 * Read policy weights from a checkpoint folder written by savePolicy, a checkpoints folder (its
 * newest step), or an export folder written by exportOnnx (model.onnx initializers + config.json).
 */
export async function readSourceWeights(path: string): Promise<SourceWeights> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isDirectory()) throw new CheckpointError(`${path}: no such folder`);
  if (await stat(join(path, 'model.onnx')).catch(() => undefined)) return readExport(path);
  const dir = await checkpointIn(path);
  if (dir) return readCheckpoint(dir);
  throw new CheckpointError(`${path}: neither a checkpoint, a checkpoints folder nor an export`);
}

/** `path` itself when it is a checkpoint, else the newest step of a checkpoints folder (undefined: neither). */
async function checkpointIn(path: string): Promise<string | undefined> {
  if (await stat(join(path, 'checkpoint.json')).catch(() => undefined)) return path;
  return (await latestCheckpoint(path))?.dir;
}

/** A LoRA policy's adapters, unmerged, from a checkpoint folder or a checkpoints folder (its newest step). */
export async function readLoraAdapters(path: string): Promise<SourceWeights> {
  const dir = await checkpointIn(path);
  if (!dir) throw new CheckpointError(`${path}: neither a checkpoint nor a checkpoints folder`);
  const { config, state } = await readPolicyCheckpoint(dir);
  if (!config.lora) throw new CheckpointError(`${dir}: not a LoRA policy (its model has no policy.lora adapters)`);
  return { config, params: state.params, from: dir };
}

/** A LoRA checkpoint holds adapters only: they come back merged into the base they adapt (its base's shape). */
async function readCheckpoint(dir: string): Promise<SourceWeights> {
  const { config, state } = await readPolicyCheckpoint(dir);
  if (!config.lora) return { config, params: state.params, from: dir };
  const all = Object.fromEntries(await initialParams(config));
  const merged = mergeLora(config, { ...all, ...state.params });
  return { ...merged, from: dir };
}

async function readExport(dir: string): Promise<SourceWeights> {
  const meta = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { format?: string; model?: unknown };
  if (meta.format !== 'spar-export/1') throw new CheckpointError(`${dir}/config.json: not a spar export (format ${String(meta.format)})`);
  const config = parseModelConfig(meta.model);
  const model = onnx.ModelProto.decode(await readFile(join(dir, 'model.onnx')));
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const params: Record<string, Float32Array> = {};
  for (const p of paramSpecs(config)) {
    const t = inits.get(p.name);
    const n = p.shape.reduce((a, d) => a * d, 1);
    const raw = t?.rawData;
    if (!raw || raw.byteLength !== n * 4) throw new CheckpointError(`${dir}/model.onnx: initializer ${p.name} missing or not ${n} float32 values`);
    const copy = new Uint8Array(raw); // aligned copy
    params[p.name] = new Float32Array(copy.buffer, copy.byteOffset, n);
  }
  return { config, params, from: dir };
}

