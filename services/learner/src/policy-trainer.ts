import type { ExperimentConfig, Trajectory } from '@spar/core';
import {
  AdvantageEstimator, isStateful, Learner, Policy,
  type CheckpointTensor, type EngineState, type EstimatorSpec, type PolicyOptions, type StepMetrics,
} from '@spar/policy';
import { estimatorBatch, trainSamples } from './batch.ts';
import { proposerSignalShare } from './curriculum.ts';
import { ReferencePolicy, referenceFromTensors } from './reference.ts';


/** What one train step did. */
export interface TrainResult {
  /** Undefined when the estimator kept no row (nothing to train). */
  readonly metrics?: StepMetrics;
  readonly advantages: Float32Array;
  /** Share of the batch's proposing rows with a non-zero advantage (undefined: none). */
  readonly proposerSignal?: number;
  readonly zeroVarianceGroups: number;
}

/**
 * One policy's training state: its weights and optimizer (Learner), its advantage estimator and
 * that estimator's running state, its KL reference. Each trained policy of an experiment has one
 * (PolicySet).
 */
export class PolicyTrainer {
  private constructor(
    readonly policy: Policy,
    private readonly learner: Learner,
    private readonly spec: EstimatorSpec,
    private readonly estimator: AdvantageEstimator,
    private estState: Float32Array | undefined,
    private readonly reference: ReferencePolicy | undefined,
    /** Recipe segment → estimator state slot. */
    private readonly segmentIndex: ReadonlyMap<string, number>,
  ) {}

  /**
   * Around `policy` (fresh, warm-started or restored): the optimizer, the estimator (state from
   * `restored`, else fresh) and the KL reference (from `restored`, else the policy's weights now).
   */
  static async create(policy: Policy, config: ExperimentConfig, segments: readonly string[], runtime: PolicyOptions, restored: Readonly<Record<string, CheckpointTensor>> | undefined): Promise<PolicyTrainer> {
    // Stateful estimators (rae, trr++ with decay) keep one state slot per recipe segment.
    const configured = config.learner.estimator as EstimatorSpec;
    const spec: EstimatorSpec = isStateful(configured) ? { ...configured, numKeys: configured.numKeys ?? Math.max(1, segments.length) } : configured;
    const learner = await Learner.create(policy, config.learner.loss, config.learner.optimizer);
    // KL reference (loss.klCoef > 0): the initial weights, or — refreshed every referenceRefreshEvery
    // steps — a magnet that trails the policy. Checkpointed with it, so a resume keeps the same pull.
    const reference = config.learner.loss.klCoef > 0
      ? await ReferencePolicy.create(policy.config, runtime, restored ? referenceFromTensors(policy.config, restored) : undefined, policy)
      : undefined;
    const estimator = await AdvantageEstimator.create(spec, { threads: 1 });
    const saved = restored?.estimator?.data as Float32Array | undefined;
    const state = isStateful(spec) ? saved ?? estimator.initialState() : undefined;
    return new PolicyTrainer(policy, learner, spec, estimator, state, reference, new Map(segments.map((s, i) => [s, i])));
  }

  get version(): number {
    return this.policy.version;
  }

  state(withOptimizer = false): Promise<EngineState> {
    return this.policy.state(withOptimizer);
  }

  /** Advantages for the batch, then one optimizer step on the rows the estimator kept. */
  async step(batch: readonly Trajectory[], referenceRefreshEvery: number): Promise<TrainResult> {
    const est = await this.estimator.compute(estimatorBatch(this.spec, batch, this.segmentIndex), this.estState);
    if (est.state) this.estState = est.state;
    const plain = trainSamples(batch, est.advantages, est.keep);
    const samples = this.reference ? await this.reference.annotate(plain) : plain;
    const metrics = samples.length ? await this.learner.step(samples) : undefined;
    if (metrics && !metrics.skipped && this.reference && referenceRefreshEvery > 0 && metrics.step % referenceRefreshEvery === 0) await this.reference.refresh(this.policy);
    return { metrics, advantages: est.advantages, proposerSignal: proposerSignalShare(batch, est.advantages, est.keep), zeroVarianceGroups: est.zeroVarianceGroups };
  }

  /** The tensors a checkpoint carries besides the weights: estimator state and KL reference. */
  async checkpointTensors(): Promise<Record<string, CheckpointTensor>> {
    return {
      ...(this.estState ? { estimator: { dtype: 'float32', shape: [this.estState.length], data: this.estState } } : {}),
      ...(this.reference ? await this.reference.tensors() : {}),
    };
  }

  async close(): Promise<void> {
    await this.estimator.close();
    await this.reference?.close();
    await this.policy.close();
  }
}
