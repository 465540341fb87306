import type { FieldIssue } from './errors.ts';
import type { ExperimentConfig } from './experiment.ts';

/**
 * Resource caps on a submitted experiment. The schema's own maxima bound each field alone
 * (64 layers, dModel 8192, ffn 65536 …); these bound what the fields cost together, so that one
 * config cannot make every shared worker allocate a model or a batch the machine cannot hold.
 * They are an admission policy of the controller: workers re-parse stored configs without them,
 * so raising a limit on the controller never strands an experiment it already accepted.
 */
export interface ResourceLimits {
  /** Parameters of the policy (exact count for the recipe's vocabulary). */
  readonly maxParams: number;
  /** `policy.context`: the KV cache and every attention row scale with it. */
  readonly maxContext: number;
  /** `rollout.groupSize × rollout.concurrency`: sequences one solver generates at once. */
  readonly maxRolloutsInFlight: number;
  /** `learner.batchSize × policy.context`: tokens in one learner step. */
  readonly maxBatchTokens: number;
  /** `eval.episodes`: games or questions per suite per evaluation. */
  readonly maxEvalEpisodes: number;
}

/** Generous for a CPU deployment; the shipped configs use well under 1 % of each. */
export const DEFAULT_LIMITS: ResourceLimits = Object.freeze({
  maxParams: 50_000_000,
  maxContext: 4096,
  maxRolloutsInFlight: 4096,
  maxBatchTokens: 1 << 20,
  maxEvalEpisodes: 10_000,
});

/** 3.4e9 for large figures, plain digits below 100000. */
export function formatCount(n: number): string {
  if (Math.abs(n) < 1e5) return String(n);
  return n.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
}

/** Issues for every cap the config exceeds; `params` is the policy's parameter count. */
export function checkLimits(config: ExperimentConfig, params: number, limits: ResourceLimits): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const over = (path: string, value: number, limit: number, what: (v: string) => string) => {
    if (value > limit) issues.push({ path, message: `${what(formatCount(value))} exceeds the limit ${formatCount(limit)}` });
  };
  const context = config.policy.context ?? 64;
  const { groupSize, concurrency } = config.rollout;
  over('/policy', params, limits.maxParams, (v) => `estimated ${v} parameters`);
  over('/policy/context', context, limits.maxContext, (v) => `context ${v}`);
  over('/rollout', groupSize * concurrency, limits.maxRolloutsInFlight, (v) => `groupSize × concurrency = ${v} sequences in flight`);
  over('/learner/batchSize', config.learner.batchSize * context, limits.maxBatchTokens, (v) => `batchSize × policy.context = ${v} tokens per step`);
  over('/eval/episodes', config.eval.episodes, limits.maxEvalEpisodes, (v) => `${v} episodes`);
  return issues;
}
