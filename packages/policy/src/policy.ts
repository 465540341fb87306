import { EngineCore, type EngineState } from './engine/core.ts';
import type { AllowedSets } from './engine/batch.ts';
import type { Engine } from './engine/engine.ts';
import { WorkerEngine } from './engine/worker.ts';
import { generate, type GenerateOptions, type GenerateResult } from './generate/generate.ts';
import { parseModelConfig, type ModelConfig } from './model/config.ts';
import type { RuntimeOptions } from './runtime/session.ts';

export interface PolicyOptions extends RuntimeOptions {
  /** Run ORT in a worker thread (default true) so the caller's event loop stays responsive. */
  readonly worker?: boolean;
}

/**
 * The policy: a decoder-only transformer whose weights live in an Engine (in-thread or in a
 * worker). Generation and scoring are async; the version advances with every learner step or
 * weight swap.
 */
export class Policy {
  private _version = 0;
  private closed?: Promise<void>;

  protected constructor(readonly config: ModelConfig, readonly engine: Engine, readonly options: PolicyOptions) {}

  /** A freshly initialised policy (seeded, deterministic). Unknown config keys are rejected. */
  static async create(modelConfig: unknown, options: PolicyOptions = {}): Promise<Policy> {
    const config = parseModelConfig(modelConfig);
    const runtime: RuntimeOptions = { ep: options.ep, threads: options.threads, spinning: options.spinning, deviceId: options.deviceId };
    const engine = options.worker === false ? await EngineCore.create(config, runtime) : await WorkerEngine.create(config, runtime);
    return new Policy(config, engine, options);
  }

  get version(): number {
    return this._version;
  }

  /** @internal used by the Learner after each applied step. */
  setVersion(v: number): void {
    this._version = v;
  }

  generate(prompts: readonly ArrayLike<number>[], opts: GenerateOptions): Promise<GenerateResult> {
    return generate(this.engine, this.config, this._version, prompts, opts);
  }

  /**
   * Per-token log-probs of whole sequences (index 0 is NaN: the first token has no prefix).
   * `base`: under a LoRA model's base, adapters off (its KL reference).
   */
  score(sequences: readonly ArrayLike<number>[], allowed?: AllowedSets, base = false): Promise<Float32Array[]> {
    return this.engine.score(sequences, allowed, base);
  }

  /** Whether the model trains LoRA adapters on a frozen base (state, checkpoints and published weights: the adapters). */
  get lora(): boolean {
    return this.config.lora !== undefined;
  }

  /** Trained weights (with LoRA: the adapters), optimizer moments (if any), step and version. */
  async state(withOptimizer = true): Promise<EngineState> {
    return this.engine.getState(withOptimizer);
  }

  /** Replace weights (hot swap to a published version, or resume from a checkpoint). */
  async setState(s: EngineState): Promise<void> {
    await this.engine.setState(s);
    this._version = s.version;
  }

  close(): Promise<void> {
    this.closed ??= this.engine.close();
    return this.closed;
  }
}
