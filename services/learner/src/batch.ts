import type { ExperienceEntry, Trajectory } from '@spar/core';
import { isStateful, type EstimatorBatch, type EstimatorSpec, type TrainSample } from '@spar/policy';

/** Index a string into a dense id table (first-come order). */
function indexer() {
  const ids = new Map<string, number>();
  return (s: string) => {
    let i = ids.get(s);
    if (i === undefined) ids.set(s, (i = ids.size));
    return i;
  };
}

/**
 * Estimator inputs for a batch of trajectories. Stateful estimators (rae keys, trr++ with decay
 * segments) index their state by the position in the recipe's fixed segment list, so a slot
 * means the same segment on every step; stateless trr++ indexes segments per batch.
 */
export function estimatorBatch(spec: EstimatorSpec, trajs: readonly Trajectory[], segments: ReadonlyMap<string, number>): EstimatorBatch {
  const rewards = trajs.map((t) => t.reward);
  const slot = (segment: string) => segments.get(segment) ?? 0;
  switch (spec.kind) {
    case 'grpo': case 'drgrpo': case 'rloo': {
      const group = indexer();
      return { rewards, groups: trajs.map((t) => group(t.group)) };
    }
    case 'trr++': {
      const seg = isStateful(spec) ? slot : indexer();
      return { rewards, segments: trajs.map((t) => seg(t.segment)) };
    }
    case 'rae':
      return { rewards, keys: trajs.map((t) => slot(t.segment)) };
    case 'reinforce++':
      return { rewards };
  }
}

/** Train samples: response tokens trained with the behaviour log-probs the solver recorded. */
export function trainSamples(trajs: readonly Trajectory[], advantages: Float32Array, keep: Uint8Array): TrainSample[] {
  const out: TrainSample[] = [];
  trajs.forEach((t, i) => {
    if (!keep[i]) return;
    const s = t.sample;
    const n = s.tokens.length;
    const mask = new Float32Array(n);
    const logprobs = new Float32Array(n);
    const allowed: (readonly number[] | null)[] = new Array(n).fill(null);
    for (let j = s.promptLength; j < n; j++) {
      mask[j] = 1;
      logprobs[j] = s.logprobs[j - s.promptLength]!;
      allowed[j] = s.allowed?.[j - s.promptLength] ?? null;
    }
    out.push({ tokens: s.tokens, mask, logprobs, advantage: advantages[i]!, ...(s.allowed ? { allowed } : {}) });
  });
  return out;
}

/** A trajectory is usable when its sample is well formed for this policy. */
export function wellFormed(t: Trajectory, vocabSize: number, context: number): boolean {
  const s = t?.sample;
  if (!s || !Array.isArray(s.tokens) || !Number.isFinite(t.reward)) return false;
  const n = s.tokens.length;
  if (n < 2 || n > context || !Number.isInteger(s.promptLength) || s.promptLength < 1 || s.promptLength >= n) return false;
  if (!Array.isArray(s.logprobs) || s.logprobs.length !== n - s.promptLength || !s.logprobs.every(Number.isFinite)) return false;
  if (s.allowed !== undefined) {
    if (!Array.isArray(s.allowed) || s.allowed.length !== n - s.promptLength) return false;
    const ok = s.allowed.every((a, j) => a === null || (Array.isArray(a) && a.every((id) => Number.isInteger(id) && id >= 0 && id < vocabSize) && a.includes(s.tokens[s.promptLength + j]!)));
    if (!ok) return false;
  }
  return s.tokens.every((x) => Number.isInteger(x) && x >= 0 && x < vocabSize);
}

export type { ExperienceEntry };
