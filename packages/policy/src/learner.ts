import type { TrainSample } from './engine/batch.ts';
import type { StepMetrics } from './engine/core.ts';
import type { Policy } from './policy.ts';
import { parseLossConfig, type LossConfig } from './train/loss.ts';
import { parseOptimizerConfig, type OptimizerConfig } from './train/optimizer.ts';

/**
 * Trains a Policy in place: one call to step() is one graph run (forward, loss, backward,
 * clipping, AdamW). A non-finite loss or gradient rejects the step without touching weights.
 */
export class Learner {
  private constructor(readonly policy: Policy, readonly loss: LossConfig, readonly optimizer: OptimizerConfig) {}

  static async create(policy: Policy, loss: unknown = {}, optimizer: unknown = {}): Promise<Learner> {
    const l = parseLossConfig(loss);
    const o = parseOptimizerConfig(optimizer);
    await policy.engine.configureTraining(l, o);
    return new Learner(policy, l, o);
  }

  async step(samples: readonly TrainSample[]): Promise<StepMetrics> {
    const m = await this.policy.engine.trainStep(samples);
    if (!m.skipped) this.policy.setVersion(this.policy.version + 1);
    return m;
  }

  /** FLOPs of one train-step graph run at a padded shape (compiles it if needed). */
  flops(batch: number, length: number): Promise<{ total: number; matmul: number }> {
    return this.policy.engine.trainGraphFlops(batch, length);
  }
}
