import { CheckpointError, ShapeError } from '../errors.ts';
import type { TensorData } from '../graph/types.ts';
import { baseConfig, headDim, kvHeads, type ModelConfig } from '../model/config.ts';
import { initialParams } from '../model/lora-base.ts';
import { mergeLora } from '../model/lora-merge.ts';
import { countParams, initParams, paramSpecs, trainableSpecs, type ParamSpec } from '../model/params.ts';
import { runSession, type RuntimeOptions } from '../runtime/session.ts';
import type { LossConfig } from '../train/loss.ts';
import type { OptimizerConfig } from '../train/optimizer.ts';
import { buildApplyGraph, buildGradGraph, buildTrainGraph, METRIC_OUTPUTS, PARTIAL_METRICS } from '../train/step-graph.ts';
import { buildDecodeGraph, buildPrefillGraph, buildScoreGraph } from './graphs.ts';
import { checkTokens, LENGTH_STEP, maskRow, packTrainBatch, type AllowedSets, type TrainSample } from './batch.ts';
import { pow2Bucket, rowBucket, SessionCache, stepBucket } from './sessions.ts';
import { batchTotals, partRows, splitByBudget, splitByLength } from './split.ts';

/** Models from this many parameters run without ORT's CPU memory arena (RuntimeOptions.memArena). */
export const ARENA_MAX_PARAMS = 20_000_000;
/**
 * Most logit cells (rows × padded length × vocabulary) one scoring run computes: a larger batch
 * is scored in row chunks, so a large vocabulary's [B, T, V] log-softmax stays bounded (128 MiB
 * per float32 tensor). Small models never split.
 */
export const SCORE_LOGIT_CELLS = 1 << 25;

const scalarFeed = (x: number): TensorData => ({ dtype: 'float32', shape: [], data: Float32Array.of(x) });

export interface StepMetrics {
  loss: number; pgLoss: number; kl: number; entropy: number; clipFrac: number; gradNorm: number;
  /** True when the step was rejected (non-finite loss or gradients); parameters are untouched. */
  skipped: boolean;
  /** Trained tokens in the batch. */
  tokens: number;
  /** Optimizer steps applied so far (after this one). */
  step: number;
}

/**
 * Everything a learner needs to resume exactly. `params` are the trained parameters: all of them,
 * or with LoRA the adapters (the frozen base is the model's own: see EngineCore.create).
 */
export interface EngineState {
  params: Record<string, Float32Array>;
  m?: Record<string, Float32Array>;
  v?: Record<string, Float32Array>;
  step: number;
  version: number;
}

interface KvCache { batch: number; keys: Float32Array[]; values: Float32Array[]; ctx: number }

/**
 * The first `rows` rows of a [B, V] logits output: the output itself when no padding row follows
 * (onnxruntime-node hands every run a fresh buffer, so it is ours to keep), else a copy.
 */
function rowsOf(logits: TensorData, rows: number, V: number): Float32Array {
  const data = logits.data as Float32Array;
  return data.length === rows * V ? data : data.slice(0, rows * V);
}

/**
 * The numeric engine: parameters, optimizer moments, ORT sessions and KV caches. It runs where
 * it is created — in-thread, or inside a worker_thread behind WorkerEngine — and speaks plain
 * data (typed arrays), so its methods can be proxied over postMessage unchanged.
 */
export class EngineCore {
  private params = new Map<string, Float32Array>();
  private m?: Map<string, Float32Array>;
  private v?: Map<string, Float32Array>;
  private step = 0;
  private version = 0;
  private readonly sessions: SessionCache;
  private readonly caches = new Map<number, KvCache>();
  private nextCache = 1;
  private train?: { loss: LossConfig; opt: OptimizerConfig };

  /** The trained parameters (all, or with LoRA the adapters): what state, moments and updates cover. */
  private readonly trained: readonly ParamSpec[];

  /**
   * At `params` (every parameter of the model), or the seeded initial weights — which a LoRA model
   * with a `lora.base` folder cannot have: EngineCore.create reads its base.
   */
  constructor(readonly config: ModelConfig, runtime: RuntimeOptions, params?: Map<string, Float32Array>) {
    if (!params && config.lora?.base) throw new Error('a LoRA model with a base folder is created by EngineCore.create (the base is read asynchronously)');
    this.sessions = new SessionCache({ ...runtime, memArena: runtime.memArena ?? countParams(config) < ARENA_MAX_PARAMS });
    this.params = params ?? initParams(config);
    this.trained = trainableSpecs(config);
  }

  /** An engine at the model's initial weights: seeded, or a LoRA model's base folder with fresh adapters. */
  static async create(config: ModelConfig, runtime: RuntimeOptions): Promise<EngineCore> {
    return new EngineCore(config, runtime, await initialParams(config));
  }

  // ---------------------------------------------------------------- state
  /**
   * Set the trained parameters (every one; with LoRA the adapters, and optionally base weights),
   * moments, step and version.
   */
  setState(s: EngineState): void {
    const take = (src: Record<string, Float32Array> | undefined, what: string, specs: readonly ParamSpec[], required: boolean) => {
      if (!src) return undefined;
      const out = new Map<string, Float32Array>();
      for (const p of specs) {
        const a = src[p.name];
        const n = p.shape.reduce((x, d) => x * d, 1);
        if (!a) {
          if (!required) continue;
          throw new CheckpointError(`${what}: missing tensor ${p.name}`);
        }
        if (a.length !== n) throw new CheckpointError(`${what}: ${p.name} has ${a.length} values, expected ${n}`);
        out.set(p.name, a);
      }
      return out;
    };
    const params = take(s.params, 'params', this.trained, true)!;
    const frozen = take(s.params, 'params', paramSpecs(this.config).filter((p) => p.frozen), false)!;
    this.m = take(s.m, 'adam m', this.trained, true);
    this.v = take(s.v, 'adam v', this.trained, true);
    for (const [k, a] of [...frozen, ...params]) this.params.set(k, a);
    this.step = s.step;
    this.version = s.version;
  }

  getState(withOptimizer = true): EngineState {
    const obj = (m?: Map<string, Float32Array>) => (m ? Object.fromEntries(m) : undefined);
    const params = Object.fromEntries(this.trained.map((p) => [p.name, this.params.get(p.name)!]));
    return { params, m: withOptimizer ? obj(this.m) : undefined, v: withOptimizer ? obj(this.v) : undefined, step: this.step, version: this.version };
  }

  getVersion(): number { return this.version; }

  /** Every parameter with a LoRA model's adapters folded in, and the model they belong to (its base); any other model as it is. */
  mergedParams(): { config: ModelConfig; params: Record<string, Float32Array> } {
    return mergeLora(this.config, Object.fromEntries(this.params));
  }

  /** Parameter feeds of `c`'s graphs: the model's (default), its base's, or the trained parameters only. */
  private paramFeeds(which: 'model' | 'base' | 'trained' = 'model'): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    const specs = which === 'trained' ? this.trained : paramSpecs(which === 'base' ? baseConfig(this.config) : this.config);
    for (const p of specs) feeds[p.name] = { dtype: 'float32', shape: p.shape, data: this.params.get(p.name)! };
    return feeds;
  }

  // ---------------------------------------------------------------- scoring
  /**
   * Per-token log-probs of each sequence (index 0 is NaN: the first token has no prefix). With
   * `allowed`, token j of sequence r is scored under the distribution renormalised over
   * allowed[r][j] (null or absent: the whole vocabulary) — the same constrained-decoding
   * distribution the sampler and the train graph use. `base`: score with a LoRA model's base
   * (adapters off: its KL reference).
   */
  async score(sequences: readonly ArrayLike<number>[], allowed?: AllowedSets, base = false): Promise<Float32Array[]> {
    if (sequences.length === 0) return [];
    sequences.forEach((s, i) => checkTokens(`sequences[${i}]`, s, this.config));
    if (allowed && allowed.length !== sequences.length) throw new ShapeError('allowed', `${allowed.length} rows for ${sequences.length} sequences`);
    const T = stepBucket(Math.max(1, ...sequences.map((s) => s.length - 1)), LENGTH_STEP, this.config.context);
    // Rows per run such that the bucketed rows' logits fit SCORE_LOGIT_CELLS (at least one row).
    const maxRows = Math.max(1, Math.floor(SCORE_LOGIT_CELLS / (T * this.config.vocabSize)));
    let chunk = maxRows;
    while (chunk > 1 && rowBucket(chunk) > maxRows) chunk--;
    if (sequences.length > chunk) {
      const out: Float32Array[] = [];
      for (let i = 0; i < sequences.length; i += chunk) out.push(...await this.score(sequences.slice(i, i + chunk), allowed?.slice(i, i + chunk), base));
      return out;
    }
    const masked = !!allowed?.some((a) => a && Array.prototype.some.call(a, (x) => !!x));
    const B = rowBucket(sequences.length);
    const c = base ? baseConfig(this.config) : this.config;
    const V = c.vocabSize;
    const session = await this.sessions.get(`score${c === this.config ? '' : '-base'}:${B}x${T}:${masked}`, () => buildScoreGraph(c, B, T, masked));
    const ids = new BigInt64Array(B * T);
    const targets = new BigInt64Array(B * T);
    const logitMask = masked ? new Float32Array(B * T * V) : undefined;
    sequences.forEach((s, r) => {
      for (let t = 0; t + 1 < s.length; t++) {
        ids[r * T + t] = BigInt(s[t]!);
        targets[r * T + t] = BigInt(s[t + 1]!);
        const a = allowed?.[r]?.[t + 1];
        if (a && logitMask) {
          const bad = a.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
          if (bad !== undefined) throw new ShapeError(`allowed[${r}][${t + 1}]`, `token id ${bad} outside the vocabulary`);
          maskRow(logitMask.subarray((r * T + t) * V, (r * T + t + 1) * V), a);
        }
      }
    });
    const out = await runSession(session, {
      ...this.paramFeeds(c === this.config ? 'model' : 'base'),
      ids: { dtype: 'int64', shape: [B, T], data: ids },
      targets: { dtype: 'int64', shape: [B, T], data: targets },
      ...(logitMask ? { logitMask: { dtype: 'float32', shape: [B, T, V], data: logitMask } } : {}),
    });
    const logp = out.logp!.data as Float32Array;
    return sequences.map((s, r) => {
      const a = new Float32Array(s.length);
      a[0] = NaN;
      for (let t = 1; t < s.length; t++) a[t] = logp[r * T + t - 1]!;
      return a;
    });
  }

  // ---------------------------------------------------------------- generation
  /**
   * Start a generation: run the prompts (right-padded) through the model, fill a KV cache and
   * return the next-token logits of each row [rows × V] (the head runs at those positions only).
   * Returns a handle for decode().
   */
  async prefill(prompts: readonly ArrayLike<number>[]): Promise<{ handle: number; logits: Float32Array }> {
    const c = this.config;
    prompts.forEach((p, i) => checkTokens(`prompts[${i}]`, p, c, c.context - 1));
    const rows = prompts.length;
    const B = pow2Bucket(rows);
    const T = stepBucket(Math.max(...prompts.map((p) => p.length)), LENGTH_STEP, c.context);
    const session = await this.sessions.get(`prefill:${B}x${T}`, () => buildPrefillGraph(c, B, T));
    const ids = new BigInt64Array(B * T);
    const last = new BigInt64Array(B); // padded rows read position 0 of their own (all-pad) row
    prompts.forEach((p, r) => {
      for (let t = 0; t < p.length; t++) ids[r * T + t] = BigInt(p[t]!);
      last[r] = BigInt(r * T + p.length - 1);
    });
    for (let r = rows; r < B; r++) last[r] = BigInt(r * T);
    const out = await runSession(session, {
      ...this.paramFeeds(), ids: { dtype: 'int64', shape: [B, T], data: ids }, last: { dtype: 'int64', shape: [B], data: last },
    });
    const H = kvHeads(c); // the cache holds key/value heads only
    const dh = headDim(c);
    const C = c.context;
    const cache: KvCache = { batch: B, ctx: C, keys: [], values: [] };
    for (let l = 0; l < c.layers; l++) {
      for (const [src, dst] of [[out[`k${l}`]!, cache.keys], [out[`v${l}`]!, cache.values]] as const) {
        const a = src.data as Float32Array;
        const buf = new Float32Array(B * H * C * dh);
        for (let bh = 0; bh < B * H; bh++) buf.set(a.subarray(bh * T * dh, (bh + 1) * T * dh), bh * C * dh);
        dst.push(buf);
      }
    }
    const handle = this.nextCache++;
    this.caches.set(handle, cache);
    return { handle, logits: rowsOf(out.logits!, rows, c.vocabSize) };
  }

  /** Append one token per row at `positions` (the row's current length); returns next-token logits. */
  async decode(handle: number, tokens: ArrayLike<number>, positions: ArrayLike<number>): Promise<Float32Array> {
    const cache = this.caches.get(handle);
    if (!cache) throw new ShapeError('handle', `unknown or released generation ${handle}`);
    const c = this.config;
    const { batch: B, ctx: C } = cache;
    const rows = tokens.length;
    if (positions.length !== rows || rows > B) throw new ShapeError('tokens', `expected ≤ ${B} rows with matching positions`);
    const H = kvHeads(c); // the cache holds key/value heads only
    const dh = headDim(c);
    const session = await this.sessions.get(`decode:${B}x${C}`, () => buildDecodeGraph(c, B, C));
    const ids = new BigInt64Array(B);
    const pos = new BigInt64Array(B);
    for (let r = 0; r < rows; r++) {
      const t = tokens[r]!;
      const q = positions[r]!;
      if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new ShapeError(`tokens[${r}]`, `token id ${t} outside [0, ${c.vocabSize})`);
      if (!Number.isInteger(q) || q < 0 || q >= C) throw new ShapeError(`positions[${r}]`, `position ${q} outside [0, ${C})`);
      ids[r] = BigInt(t);
      pos[r] = BigInt(q);
    }
    const feeds: Record<string, TensorData> = { ...this.paramFeeds(), ids: { dtype: 'int64', shape: [B, 1], data: ids }, positions: { dtype: 'int64', shape: [B], data: pos } };
    for (let l = 0; l < c.layers; l++) {
      feeds[`kc${l}`] = { dtype: 'float32', shape: [B, H, C, dh], data: cache.keys[l]! };
      feeds[`vc${l}`] = { dtype: 'float32', shape: [B, H, C, dh], data: cache.values[l]! };
    }
    const out = await runSession(session, feeds);
    for (let l = 0; l < c.layers; l++) {
      for (const [src, dst] of [[out[`k${l}`]!, cache.keys[l]!], [out[`v${l}`]!, cache.values[l]!]] as const) {
        const a = src.data as Float32Array;
        for (let r = 0; r < rows; r++) {
          const q = positions[r]!;
          for (let h = 0; h < H; h++) dst.set(a.subarray((r * H + h) * dh, (r * H + h + 1) * dh), ((r * H + h) * C + q) * dh);
        }
      }
    }
    return rowsOf(out.logits!, rows, c.vocabSize);
  }

  release(handle: number): void {
    this.caches.delete(handle);
  }

  // ---------------------------------------------------------------- training
  configureTraining(loss: LossConfig, opt: OptimizerConfig): void {
    this.train = { loss, opt };
    if (!this.m || !this.v) {
      this.m = new Map(this.trained.map((p) => [p.name, new Float32Array(this.params.get(p.name)!.length)]));
      this.v = new Map(this.trained.map((p) => [p.name, new Float32Array(this.params.get(p.name)!.length)]));
    }
  }

  /** FLOPs of the train-step graph for a padded shape (unconstrained: no logit mask). */
  async trainGraphFlops(batch: number, length: number): Promise<{ total: number; matmul: number }> {
    const { loss, opt } = this.train!;
    return buildTrainGraph(this.config, loss, opt, { batch, length, withRef: loss.klCoef > 0 }).flops;
  }

  /**
   * One optimizer step on a batch of sequences: one graph run; or micro-batches of at most
   * `microBatchTokens` padded cells when the optimizer config sets it; otherwise two
   * length-bucketed micro-batches when those pad to clearly less (engine/split.ts). `split:
   * false` forces one run.
   */
  async trainStep(samples: readonly TrainSample[], split = true): Promise<StepMetrics> {
    if (!this.train) throw new Error('configureTraining() first');
    const { loss, opt } = this.train;
    const withRef = loss.klCoef > 0;
    let filled = samples;
    if (loss.kind === 'ppo' && samples.some((s) => !s.logprobs)) {
      const missing = samples.map((s, i) => (s.logprobs ? -1 : i)).filter((i) => i >= 0);
      const scored = await this.score(missing.map((i) => samples[i]!.tokens), missing.map((i) => samples[i]!.allowed ?? null));
      filled = samples.map((s) => s);
      missing.forEach((i, k) => { (filled as TrainSample[])[i] = { ...samples[i]!, logprobs: scored[k]! }; });
    }
    const lengths = filled.map((x) => x.tokens.length - 1);
    const budget = opt.microBatchTokens ?? this.logitBudget(lengths);
    const parts = !split ? [] : budget ? splitByBudget(lengths, this.config.context, budget) : splitByLength(lengths, this.config.context);
    if (parts.length > 1) return this.accumulatedStep(filled, parts, withRef);
    const packed = packTrainBatch(filled, this.config, withRef);
    const shape = { batch: packed.batch, length: packed.length, withRef, masked: packed.masked };
    const session = await this.sessions.get(`train:${shape.batch}x${shape.length}:${withRef}:${packed.masked}`, () => buildTrainGraph(this.config, loss, opt, shape).graph);
    const out = await runSession(session, { ...this.paramFeeds(), ...packed.feeds, ...this.updateFeeds() });
    const metric = (k: string) => (out[k]!.data as Float32Array)[0]!;
    const metrics = Object.fromEntries(METRIC_OUTPUTS.map((k) => [k, metric(k)])) as Record<(typeof METRIC_OUTPUTS)[number], number>;
    return this.commit(out, metrics, packed.tokens);
  }

  /**
   * Without `microBatchTokens`, the token budget that keeps a step's [B, T, V] logits within
   * SCORE_LOGIT_CELLS, when the whole batch would exceed it (a large vocabulary); otherwise none.
   */
  private logitBudget(lengths: readonly number[]): number | undefined {
    const V = this.config.vocabSize;
    const T = stepBucket(Math.max(1, ...lengths), LENGTH_STEP, this.config.context);
    if (rowBucket(lengths.length) * T * V <= SCORE_LOGIT_CELLS) return undefined;
    return Math.max(1, Math.floor(SCORE_LOGIT_CELLS / V));
  }

  /**
   * One optimizer step as micro-batches (engine/split.ts): each part's share of the loss and its
   * gradients from a grad graph, summed here, then one clip-and-AdamW graph.
   */
  private async accumulatedStep(samples: readonly TrainSample[], parts: readonly number[][], withRef: boolean): Promise<StepMetrics> {
    const { loss, opt } = this.train!;
    const specs = this.trained;
    const totals = batchTotals(samples.map((x) => x.mask));
    const norms = { normTokens: scalarFeed(totals.tokens), normRows: scalarFeed(totals.rows) };
    const sums = new Map(specs.map((p) => [p.name, new Float32Array(this.params.get(p.name)!.length)]));
    const metrics = { loss: 0, pgLoss: 0, kl: 0, entropy: 0, clipFrac: 0, gradNorm: 0 };
    let tokens = 0;
    for (const rows of parts) {
      const packed = packTrainBatch(rows.map((i) => samples[i]!), this.config, withRef, partRows(rows.length));
      tokens += packed.tokens;
      const shape = { batch: packed.batch, length: packed.length, withRef, masked: packed.masked };
      const session = await this.sessions.get(`grad:${shape.batch}x${shape.length}:${withRef}:${packed.masked}`, () => buildGradGraph(this.config, loss, shape).graph);
      const out = await runSession(session, { ...this.paramFeeds(), ...packed.feeds, ...norms });
      for (const k of PARTIAL_METRICS) metrics[k] += (out[k]!.data as Float32Array)[0]!;
      for (const p of specs) {
        const sum = sums.get(p.name)!;
        const g = out[`grad:${p.name}`]!.data as Float32Array;
        for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + g[i]!;
      }
    }
    const apply = await this.sessions.get('apply', () => buildApplyGraph(this.config, opt));
    const feeds: Record<string, TensorData> = { ...this.paramFeeds('trained'), ...this.updateFeeds() };
    for (const p of specs) feeds[`grad:${p.name}`] = { dtype: 'float32', shape: p.shape, data: sums.get(p.name)! };
    const out = await runSession(apply, feeds);
    metrics.gradNorm = (out.gradNorm!.data as Float32Array)[0]!;
    return this.commit(out, metrics, tokens);
  }

  /** The optimizer inputs of the next step: lr (with warm-up), bias corrections, moments. */
  private updateFeeds(): Record<string, TensorData> {
    const { opt } = this.train!;
    const t = this.step + 1;
    const lr = opt.lr * (opt.warmupSteps > 0 ? Math.min(1, t / opt.warmupSteps) : 1);
    const feeds: Record<string, TensorData> = {
      lr: scalarFeed(lr), bc1: scalarFeed(1 / (1 - Math.pow(opt.beta1, t))), bc2: scalarFeed(1 / (1 - Math.pow(opt.beta2, t))),
    };
    for (const p of this.trained) {
      feeds[`m:${p.name}`] = { dtype: 'float32', shape: p.shape, data: this.m!.get(p.name)! };
      feeds[`v:${p.name}`] = { dtype: 'float32', shape: p.shape, data: this.v!.get(p.name)! };
    }
    return feeds;
  }

  /** Take an update graph's new parameters and moments, unless the loss or gradients were not finite. */
  private commit(out: Record<string, TensorData>, metrics: Omit<StepMetrics, 'skipped' | 'tokens' | 'step'>, tokens: number): StepMetrics {
    const finite = Number.isFinite(metrics.loss) && Number.isFinite(metrics.gradNorm);
    if (finite) {
      for (const p of this.trained) {
        this.params.set(p.name, out[`out:${p.name}`]!.data as Float32Array);
        this.m!.set(p.name, out[`out_m:${p.name}`]!.data as Float32Array);
        this.v!.set(p.name, out[`out_v:${p.name}`]!.data as Float32Array);
      }
      this.step += 1;
      this.version++;
    }
    return { ...metrics, skipped: !finite, tokens, step: this.step };
  }

  async close(): Promise<void> {
    this.caches.clear();
    await this.sessions.close();
  }
}
