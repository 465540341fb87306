/** Seeded uniform [0,1) generator (xorshift128+ on two 32-bit halves; deterministic across platforms). */
export function uniform(seed: number): () => number {
  let a = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  return () => {
    let t = a;
    const s = b;
    a = s;
    t ^= t << 11; t >>>= 0;
    t ^= t >>> 8;
    b = (t ^ s ^ (s >>> 19)) >>> 0;
    return ((a + b) >>> 0) / 4294967296;
  };
}

export interface SampleOptions {
  /** 0 = greedy. */
  readonly temperature: number;
  /** Nucleus mass in (0, 1]. */
  readonly topP: number;
}

export interface Sampled {
  readonly token: number;
  /**
   * log p(token) at temperature 1 under the model restricted to the allowed set (the whole
   * vocabulary when there is no mask): the quantity the learner's importance ratio compares
   * against, given the same allowed set.
   */
  readonly logprob: number;
  /** log p(token) under the distribution actually sampled from (temperature, top-p, mask). */
  readonly samplingLogprob: number;
}

function logSumExp(x: Float32Array | Float64Array, allowed?: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if ((!allowed || allowed[i]) && x[i]! > max) max = x[i]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < x.length; i++) if (!allowed || allowed[i]) s += Math.exp(x[i]! - max);
  return max + Math.log(s);
}

/**
 * Sample one token from logits (one row). `allowed` (nonzero = allowed) restricts the support;
 * returns undefined when nothing is allowed.
 */
export function sampleToken(logits: Float32Array, opts: SampleOptions, rand: () => number, allowed?: ArrayLike<number>): Sampled | undefined {
  const V = logits.length;
  const rawLse = logSumExp(logits, allowed);
  if (opts.temperature <= 0) {
    let best = -1;
    for (let i = 0; i < V; i++) if ((!allowed || allowed[i]) && (best < 0 || logits[i]! > logits[best]!)) best = i;
    if (best < 0) return undefined;
    return { token: best, logprob: logits[best]! - rawLse, samplingLogprob: 0 };
  }
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) z[i] = logits[i]! / opts.temperature;
  const lse = logSumExp(z, allowed);
  if (lse === -Infinity) return undefined;
  const probs = new Float64Array(V);
  for (let i = 0; i < V; i++) probs[i] = !allowed || allowed[i] ? Math.exp(z[i]! - lse) : 0;
  let support: number[];
  if (opts.topP < 1) {
    const order = [...Array(V).keys()].filter((i) => probs[i]! > 0).sort((x, y) => probs[y]! - probs[x]!);
    support = [];
    let mass = 0;
    for (const i of order) {
      support.push(i);
      mass += probs[i]!;
      if (mass >= opts.topP) break;
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
