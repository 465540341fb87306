import type { AllowedSets, TrainSample } from './batch.ts';
import type { EngineState, StepMetrics } from './core.ts';
import type { ModelConfig } from '../model/config.ts';
import type { LossConfig } from '../train/loss.ts';
import type { OptimizerConfig } from '../train/optimizer.ts';

/** The engine surface, identical in-thread (EngineCore) and behind a worker (WorkerEngine). */
export interface Engine {
  setState(s: EngineState): Promise<void> | void;
  getState(withOptimizer?: boolean): Promise<EngineState> | EngineState;
  /** Every parameter, a LoRA model's adapters merged into its base (then `config` is the base's). */
  mergedParams(): Promise<{ config: ModelConfig; params: Record<string, Float32Array> }> | { config: ModelConfig; params: Record<string, Float32Array> };
  /** `base`: with a LoRA model's base (adapters off). */
  score(sequences: readonly ArrayLike<number>[], allowed?: AllowedSets, base?: boolean): Promise<Float32Array[]>;
  prefill(prompts: readonly ArrayLike<number>[]): Promise<{ handle: number; logits: Float32Array }>;
  decode(handle: number, tokens: ArrayLike<number>, positions: ArrayLike<number>): Promise<Float32Array>;
  release(handle: number): Promise<void> | void;
  configureTraining(loss: LossConfig, opt: OptimizerConfig): Promise<void> | void;
  trainStep(samples: readonly TrainSample[]): Promise<StepMetrics>;
  trainGraphFlops(batch: number, length: number): Promise<{ total: number; matmul: number }>;
  close(): Promise<void>;
}
