import type { Sampled, SampleOptions } from './sampler.ts';

/**
 * The oracle for sampleToken: the sampler as it was before it stopped sorting the vocabulary —
 * rank every allowed token by probability (a stable sort: ties by id), keep the first topK, then
 * the shortest prefix whose mass reaches topP (of the kept mass), and walk it with one uniform
 * draw. O(V log V) per token; tests and bench:large-vocab compare the two.
 */
export function referenceSampleToken(logits: Float32Array, opts: SampleOptions, rand: () => number, allowed?: ArrayLike<number>): Sampled | undefined {
  const logSumExp = (x: ArrayLike<number>) => {
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) if ((!allowed || allowed[i]) && x[i]! > max) max = x[i]!;
    if (max === -Infinity) return -Infinity;
    let s = 0;
    for (let i = 0; i < x.length; i++) if (!allowed || allowed[i]) s += Math.exp(x[i]! - max);
    return max + Math.log(s);
  };
  const V = logits.length;
  const rawLse = logSumExp(logits);
  if (opts.temperature <= 0) {
    let best = -1;
    for (let i = 0; i < V; i++) if ((!allowed || allowed[i]) && (best < 0 || logits[i]! > logits[best]!)) best = i;
    if (best < 0) return undefined;
    return { token: best, logprob: logits[best]! - rawLse, samplingLogprob: 0 };
  }
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) z[i] = logits[i]! / opts.temperature;
  const lse = logSumExp(z);
  if (lse === -Infinity) return undefined;
  const probs = new Float64Array(V);
  for (let i = 0; i < V; i++) probs[i] = !allowed || allowed[i] ? Math.exp(z[i]! - lse) : 0;
  let support: number[];
  if (opts.topP < 1 || opts.topK) {
    let order = [...Array(V).keys()].filter((i) => probs[i]! > 0).sort((x, y) => probs[y]! - probs[x]!);
    let target = opts.topP;
    if (opts.topK) {
      order = order.slice(0, opts.topK);
      target = opts.topP * order.reduce((s, i) => s + probs[i]!, 0);
    }
    support = [];
    let mass = 0;
    for (const i of order) {
      support.push(i);
      mass += probs[i]!;
      if (opts.topP < 1 && mass >= target) break;
    }
  } else {
    support = [...Array(V).keys()].filter((i) => probs[i]! > 0);
  }
  let total = 0;
  for (const i of support) total += probs[i]!;
  let u = rand() * total;
  let token = support[support.length - 1]!;
  for (const i of support) {
    u -= probs[i]!;
    if (u <= 0) { token = i; break; }
  }
  return { token, logprob: logits[token]! - rawLse, samplingLogprob: Math.log(probs[token]! / total) };
}
