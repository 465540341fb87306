import { CheckpointError, paramSpecs, Policy, type CheckpointTensor, type ModelConfig, type PolicyOptions, type TrainSample } from '@spar/policy';

const PREFIX = 'reference/';

/** The reference weights stored in a checkpoint's extra tensors, or undefined when it has none. */
export function referenceFromTensors(model: ModelConfig, extra: Readonly<Record<string, CheckpointTensor>>): Record<string, Float32Array> | undefined {
  const specs = paramSpecs(model);
  if (!specs.some((p) => extra[PREFIX + p.name])) return undefined;
  const params: Record<string, Float32Array> = {};
  for (const p of specs) {
    const t = extra[PREFIX + p.name];
    const n = p.shape.reduce((a, d) => a * d, 1);
    if (!t || t.dtype !== 'float32' || t.data.length !== n) throw new CheckpointError(`checkpoint reference tensor ${p.name} is missing or malformed`);
    params[p.name] = t.data as Float32Array;
  }
  return params;
}

/**
 * The policy the loss's KL term pulls towards. It scores each train sample under the same
 * constrained-decoding sets the behaviour policy sampled from, so the k3 estimator compares like
 * with like.
 */
export class ReferencePolicy {
  private closed = false;

  /** `base`: `policy` is the trained policy itself, a LoRA model scored with its adapters off. */
  private constructor(private readonly policy: Policy, private readonly base = false) {}

  /**
   * From saved reference weights (resume) or, when there are none, a copy of `current`. A LoRA
   * policy's reference is its frozen base: `current` scored with the adapters off (no copy, nothing saved).
   */
  static async create(model: ModelConfig, runtime: PolicyOptions, saved: Record<string, Float32Array> | undefined, current: Policy): Promise<ReferencePolicy> {
    if (current.lora) return new ReferencePolicy(current, true);
    const policy = await Policy.create(model, runtime);
    const ref = new ReferencePolicy(policy);
    if (saved) await policy.setState({ params: saved, step: 0, version: 0 });
    else await ref.refresh(current);
    return ref;
  }

  /** Copy the current weights of `from` (the magnet moves to where the policy is now). */
  async refresh(from: Policy): Promise<void> {
    if (this.base) throw new Error('the KL reference of a LoRA policy is its base; it is never refreshed');
    const s = await from.state(false);
    await this.policy.setState({ params: s.params, step: 0, version: s.version });
  }

  /** The samples with refLogprobs filled in. */
  async annotate(samples: readonly TrainSample[]): Promise<TrainSample[]> {
    if (samples.length === 0) return [];
    const scored = await this.policy.score(samples.map((s) => s.tokens), samples.map((s) => s.allowed ?? null), this.base);
    return samples.map((s, i) => {
      const lp = scored[i]!;
      lp[0] = 0; // no prefix for the first token; it is never a trained position
      return { ...s, refLogprobs: lp };
    });
  }

  /** Reference weights as checkpoint extra tensors. */
  async tensors(): Promise<Record<string, CheckpointTensor>> {
    if (this.base) return {};
    const s = await this.policy.state(false);
    const out: Record<string, CheckpointTensor> = {};
    for (const p of paramSpecs(this.policy.config)) out[PREFIX + p.name] = { dtype: 'float32', shape: [s.params[p.name]!.length], data: s.params[p.name]! };
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.base) await this.policy.close(); // the trained policy is its trainer's to close
  }
}
