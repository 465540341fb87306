import { ShapeError } from '../errors.ts';
import type { Engine } from '../engine/engine.ts';
import type { ModelConfig } from '../model/config.ts';
import { sampleToken, uniform } from './sampler.ts';

/** Per-step constraint: return the allowed next tokens (nonzero = allowed) for one row, or undefined for no constraint. */
export type LogitMask = (row: number, generated: readonly number[]) => ArrayLike<number> | undefined;

export interface GenerateOptions {
  readonly temperature?: number;
  readonly topP?: number;
  /** Sample among the k most probable (allowed) tokens only, before top-p; 0 or absent = off. */
  readonly topK?: number;
  readonly maxNewTokens: number;
  /** Tokens that end a row (kept in the output). */
  readonly stop?: readonly number[];
  readonly mask?: LogitMask;
  readonly seed?: number;
}

export interface Generation {
  /** Generated tokens (prompt excluded). */
  readonly tokens: Int32Array;
  /** Temperature-1 log-probs of each token under the model restricted to that step's allowed set. */
  readonly logprobs: Float32Array;
  /** The allowed token ids at each step (undefined where the step was unconstrained). */
  readonly allowed: (number[] | undefined)[];
  /** Log-probs under the sampling distribution actually used (temperature, top-k, top-p, mask). */
  readonly samplingLogprobs: Float32Array;
  readonly finishReason: 'stop' | 'length' | 'masked';
}

export interface GenerateResult {
  readonly rows: Generation[];
  readonly version: number;
}

let seedCounter = 0x5eed;

function allowedIds(mask: ArrayLike<number>): number[] {
  const ids: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) ids.push(i);
  return ids;
}

/** Batched sampling with a KV cache: one prefill, then one decode run per new token. */
export async function generate(
  engine: Engine, config: ModelConfig, version: number, prompts: readonly ArrayLike<number>[], opts: GenerateOptions,
): Promise<GenerateResult> {
  if (prompts.length === 0) return { rows: [], version };
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 1) throw new ShapeError('maxNewTokens', 'must be a positive integer');
  const temperature = opts.temperature ?? 1;
  const topP = opts.topP ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ShapeError('temperature', 'must be a finite number ≥ 0');
  if (!(topP > 0 && topP <= 1)) throw new ShapeError('topP', 'must be in (0, 1]');
  const topK = opts.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new ShapeError('topK', 'must be an integer ≥ 0');
  const stop = new Set(opts.stop ?? []);
  const rand = uniform(opts.seed ?? seedCounter++);
  const V = config.vocabSize;
  const n = prompts.length;
  const out = prompts.map(() => ({ tokens: [] as number[], logprobs: [] as number[], sampling: [] as number[], allowed: [] as (number[] | undefined)[], done: false, reason: 'length' as Generation['finishReason'] }));
  const budget = prompts.map((p) => Math.min(opts.maxNewTokens, config.context - p.length));
  const { handle, logits: first } = await engine.prefill(prompts);
  try {
    let logits = first;
    for (let step = 0; ; step++) {
      const next = new Int32Array(n);
      const pos = new Int32Array(n);
      let active = 0;
      for (let r = 0; r < n; r++) {
        const o = out[r]!;
        if (o.done) continue;
        const allowed = opts.mask?.(r, o.tokens);
        const s = sampleToken(logits.subarray(r * V, (r + 1) * V), { temperature, topP, topK }, rand, allowed);
        if (!s) { o.done = true; o.reason = 'masked'; continue; }
        o.tokens.push(s.token);
        o.logprobs.push(s.logprob);
        o.sampling.push(s.samplingLogprob);
        o.allowed.push(allowed && allowedIds(allowed));
        if (stop.has(s.token)) { o.done = true; o.reason = 'stop'; }
        else if (o.tokens.length >= budget[r]!) { o.done = true; o.reason = 'length'; }
        next[r] = s.token;
        pos[r] = prompts[r]!.length + o.tokens.length - 1;
        if (!o.done) active++;
      }
      if (active === 0) break;
      // Finished rows still occupy their slot; they are fed a harmless token at a valid position.
      for (let r = 0; r < n; r++) if (out[r]!.done) { next[r] = 0; pos[r] = 0; }
      logits = await engine.decode(handle, next, pos);
    }
  } finally {
    await engine.release(handle);
  }
  return {
    version,
    rows: out.map((o) => ({
      tokens: Int32Array.from(o.tokens), logprobs: Float32Array.from(o.logprobs),
      samplingLogprobs: Float32Array.from(o.sampling), allowed: o.allowed, finishReason: o.reason,
    })),
  };
}
