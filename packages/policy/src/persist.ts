import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type CheckpointTensor } from './checkpoint/safetensors.ts';
import { contentHash, loadCheckpoint, requireTensor, saveCheckpoint, type JsonObject, type SavedCheckpoint } from './checkpoint/store.ts';
import { CheckpointError } from './errors.ts';
import { Graph } from './graph/graph.ts';
import { serialize } from './graph/serialize.ts';
import type { EngineState } from './engine/core.ts';
import { parseModelConfig } from './model/config.ts';
import { paramSpecs, trainableSpecs } from './model/params.ts';
import { declareParams, forward } from './model/transformer.ts';
import { Policy, type PolicyOptions } from './policy.ts';
import type { Tokenizer } from './vocab/vocabulary.ts';

export const POLICY_FORMAT = 'spar-policy/1';

export interface SaveOptions {
  /** Extra tensors (estimator state such as RAE baselines, RNG state, ...), stored under `extra/`. */
  readonly extraTensors?: Record<string, CheckpointTensor>;
  /** Extra JSON metadata (cursors, experiment ids, ...). */
  readonly metadata?: Record<string, unknown>;
  /** Include AdamW moments (default true). */
  readonly optimizer?: boolean;
}

function stateTensors(s: EngineState, withOptimizer: boolean): Record<string, CheckpointTensor> {
  const t: Record<string, CheckpointTensor> = {};
  const put = (prefix: string, src?: Record<string, Float32Array>) => {
    if (!src) return;
    for (const [k, data] of Object.entries(src)) t[`${prefix}${k}`] = { dtype: 'float32', shape: [data.length], data };
  };
  put('param/', s.params);
  if (withOptimizer) {
    put('adam_m/', s.m);
    put('adam_v/', s.v);
  }
  return t;
}

/** Save weights, optimizer moments, step, version and extras as a sha256-verified safetensors checkpoint. */
export async function savePolicy(policy: Policy, dir: string, opts: SaveOptions = {}): Promise<SavedCheckpoint> {
  const withOpt = opts.optimizer !== false;
  const s = await policy.state(withOpt);
  const tensors = stateTensors(s, withOpt);
  for (const [k, v] of Object.entries(opts.extraTensors ?? {})) tensors[`extra/${k}`] = v;
  return saveCheckpoint(dir, {
    tensors,
    metadata: { format: POLICY_FORMAT, model: policy.config, step: s.step, version: s.version, extra: opts.metadata ?? {} },
  });
}

export interface LoadedPolicy {
  readonly policy: Policy;
  readonly metadata: JsonObject;
  readonly extraTensors: Record<string, CheckpointTensor>;
  readonly sha256: string;
}

/** Parse a checkpoint written by savePolicy: model config, engine state, metadata, extra tensors. */
export async function readPolicyCheckpoint(dir: string) {
  const ck = await loadCheckpoint(dir);
  const meta = ck.metadata;
  if (meta.format !== POLICY_FORMAT) throw new CheckpointError(`${dir}: not a policy checkpoint (format ${String(meta.format)})`);
  const config = parseModelConfig(meta.model);
  const pick = (prefix: string, required: boolean) => {
    const out: Record<string, Float32Array> = {};
    for (const p of trainableSpecs(config)) {
      const name = `${prefix}${p.name}`;
      if (!required && !(name in ck.tensors)) return undefined;
      const n = p.shape.reduce((a, d) => a * d, 1);
      out[p.name] = requireTensor(ck.tensors, name, 'float32', [n]).data as Float32Array;
    }
    return out;
  };
  const state: EngineState = {
    params: pick('param/', true)!, m: pick('adam_m/', false), v: pick('adam_v/', false),
    step: Number(meta.step), version: Number(meta.version),
  };
  const extraTensors: Record<string, CheckpointTensor> = {};
  for (const [k, v] of Object.entries(ck.tensors)) if (k.startsWith('extra/')) extraTensors[k.slice(6)] = v;
  return { config, state, metadata: (meta.extra ?? {}) as JsonObject, extraTensors, sha256: ck.sha256 };
}

/** Rebuild a Policy (weights, moments, step, version) from a checkpoint written by savePolicy. */
export async function loadPolicy(dir: string, options: PolicyOptions = {}): Promise<LoadedPolicy> {
  const { config, state, metadata, extraTensors, sha256 } = await readPolicyCheckpoint(dir);
  const policy = await Policy.create(config, options);
  try {
    await policy.setState(state);
  } catch (err) {
    await policy.close();
    throw err;
  }
  return { policy, metadata, extraTensors, sha256 };
}

/** Load a checkpoint written by savePolicy into an existing policy of the same shapes. */
export async function restorePolicy(policy: Policy, dir: string): Promise<Omit<LoadedPolicy, 'policy'>> {
  const { state, metadata, extraTensors, sha256 } = await readPolicyCheckpoint(dir);
  await policy.setState(state);
  return { metadata, extraTensors, sha256 };
}

export interface Weights {
  readonly version: number;
  readonly sha256: string;
  /** safetensors bytes: the trained parameters only (with LoRA: the adapters), metadata {model, version}. */
  readonly bytes: Uint8Array;
}

/**
 * The current weights as one content-addressed blob (what the learner publishes to workers). A LoRA
 * model's are its adapters: every worker holds the frozen base already (EngineCore.create).
 */
export async function policyWeights(policy: Policy): Promise<Weights> {
  const s = await policy.state(false);
  const bytes = encodeSafetensors(stateTensors(s, false), { spar: JSON.stringify({ model: policy.config, version: s.version }) });
  return { version: s.version, sha256: contentHash(bytes), bytes };
}

/** Swap a policy to published weights after verifying their hash (throws CheckpointError on mismatch). */
export async function applyWeights(policy: Policy, w: Weights): Promise<void> {
  const got = contentHash(w.bytes);
  if (got !== w.sha256) throw new CheckpointError(`weights hash mismatch: expected ${w.sha256}, got ${got}`);
  const { tensors } = decodeSafetensors(w.bytes);
  const params: Record<string, Float32Array> = {};
  for (const p of trainableSpecs(policy.config)) {
    params[p.name] = requireTensor(tensors, `param/${p.name}`, 'float32', [p.shape.reduce((a, d) => a * d, 1)]).data as Float32Array;
  }
  const cur = await policy.state(false);
  await policy.setState({ params, step: cur.step, version: w.version });
}

export interface ExportOptions {
  readonly tokenizer?: Tokenizer;
  /** Static batch size of the exported model (default 1). */
  readonly batch?: number;
}

/**
 * Export a standalone inference model: `model.onnx` (weights embedded; input `ids` int64
 * [batch, context], right-padded; output `logits` [batch, context, vocab] — causal, so padding
 * never changes earlier positions), `tokenizer.json` and `config.json`.
 */
export async function exportOnnx(policy: Policy, dir: string, opts: ExportOptions = {}): Promise<{ model: string; sha256: string }> {
  // A LoRA model exports merged: its base's shape, W + (alpha/rank)·A·B.
  const { config: c, params } = await policy.engine.mergedParams();
  const B = opts.batch ?? 1;
  const s = await policy.state(false);
  const g = new Graph('float32');
  const pmap = declareParams(g, c);
  // Turn parameter inputs into initializers: the exported model needs no weight feeds.
  for (const p of paramSpecs(c)) {
    const v = pmap.get(p.name)!;
    g.inputs.splice(g.inputs.indexOf(v), 1);
    g.initializers.set(v.id, { dtype: 'float32', shape: p.shape, data: params[p.name]! });
  }
  const ids = g.input('ids', 'int64', [B, c.context]);
  g.output(forward(g, c, pmap, ids).logits, 'logits');
  const bytes = serialize(g, { name: 'spar-policy', metadata: { 'spar.model': JSON.stringify(c), 'spar.version': String(s.version) } });
  await mkdir(dir, { recursive: true });
  const write = async (name: string, data: string | Uint8Array) => {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, data);
    await rename(tmp, join(dir, name));
  };
  const sha256 = contentHash(bytes);
  await write('model.onnx', bytes);
  if (opts.tokenizer) await write('tokenizer.json', JSON.stringify(opts.tokenizer.toJSON(), null, 2));
  await write('config.json', JSON.stringify({
    format: 'spar-export/1', model: c, version: s.version, sha256,
    io: { inputs: { ids: { dtype: 'int64', shape: [B, c.context], padding: 'right' } }, outputs: { logits: { dtype: 'float32', shape: [B, c.context, c.vocabSize] } } },
  }, null, 2));
  return { model: join(dir, 'model.onnx'), sha256 };
}
