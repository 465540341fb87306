import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import './telemetry-off.ts';
import * as ort from 'onnxruntime-node';
import { ProviderError, ShapeError } from '../errors.ts';
import type { DType, Shape, TensorData, TypedArray } from '../graph/types.ts';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface RuntimeOptions {
  /** Execution provider; `cpu` by default. */
  readonly ep?: ExecutionProvider;
  /** Intra-op threads (default: ORT's choice, i.e. all cores). */
  readonly threads?: number;
  /** Let idle ORT threads spin (fast on an idle machine, harmful when processes share cores). */
  readonly spinning?: boolean;
  /** CUDA device id. */
  readonly deviceId?: number;
  /**
   * ORT's CPU memory arena (default on): each session keeps the peak of its runs allocated. The
   * engine turns it off for large models, whose one session per shape bucket would otherwise each
   * hold gigabytes between runs.
   */
  readonly memArena?: boolean;
}

const CUDA_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

/** Folder holding onnxruntime-node's native binding (where provider libraries must live). */
export function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Names of the CUDA provider libraries missing next to the binding (empty when all present). */
export function missingCudaLibraries(): string[] {
  const dir = bindingDir();
  return CUDA_LIBS.filter((f) => !existsSync(join(dir, f)));
}

export async function createSession(model: Uint8Array, opts: RuntimeOptions = {}): Promise<ort.InferenceSession> {
  const ep = opts.ep ?? 'cpu';
  if (ep === 'cuda') {
    const missing = missingCudaLibraries();
    if (missing.length) {
      throw new ProviderError('cuda', `CUDA execution provider unavailable: missing ${missing.join(', ')} in ${bindingDir()} ` +
        '(run scripts/gpu/prepare-cuda-ep.sh on the GPU host; see docs/gpu.md)');
    }
    // cuBLAS/cuDNN compute float32 MatMuls in TF32 by default on Ampere and later: on an H200 that
    // put the imported models' logits 1e-3 (relative) off the float64 reference, against 8e-7 on
    // the CPU EP and with TF32 off. Off unless the environment asks for it, as PyTorch has matmuls
    // (read when the first cuBLAS handle is made, so set before the first CUDA session).
    process.env.NVIDIA_TF32_OVERRIDE ??= '0';
  }
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ep === 'cuda' ? [{ name: 'cuda', deviceId: opts.deviceId ?? 0 }] : ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(opts.memArena === false ? { enableCpuMemArena: false } : {}),
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    extra: { session: { intra_op: { allow_spinning: opts.spinning === false ? '0' : '1' } } },
  };
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (err) {
    const msg = (err as Error).message;
    if (ep === 'cuda') throw new ProviderError('cuda', `CUDA execution provider failed to load: ${msg}`);
    throw err;
  }
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool',
};

export function toOrt(t: TensorData): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data as never, t.shape as number[]);
}

export function fromOrt(t: ort.Tensor): TensorData {
  const dtype = (Object.entries(ORT_TYPE).find(([, v]) => v === t.type)?.[0] ?? 'float32') as DType;
  return { dtype, shape: [...t.dims], data: t.data as TypedArray };
}

/** Run a session on named tensors; checks every feed against the session's declared inputs. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, TensorData>,
  fetches?: readonly string[],
): Promise<Record<string, TensorData>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const t = feeds[name];
    if (!t) throw new ShapeError(name, 'missing input');
    ortFeeds[name] = toOrt(t);
  }
  const out = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
  const res: Record<string, TensorData> = {};
  for (const [k, v] of Object.entries(out)) res[k] = fromOrt(v);
  return res;
}

export function tensor(dtype: DType, shape: Shape, data: TypedArray): TensorData {
  return { dtype, shape, data };
}
