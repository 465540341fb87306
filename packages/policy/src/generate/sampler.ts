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
  /** Keep only the k most probable allowed tokens (ties: the lower id first), then apply top-p; 0 or absent = off. */
  readonly topK?: number;
}

export interface Sampled {
  readonly token: number;
  /**
   * log p(token) at temperature 1 under the model restricted to the allowed set (the whole
   * vocabulary when there is no mask): the quantity the learner's importance ratio compares
   * against, given the same allowed set.
   */
  readonly logprob: number;
  /** log p(token) under the distribution actually sampled from (temperature, top-k, top-p, mask). */
  readonly samplingLogprob: number;
}

function logSumExp(x: ArrayLike<number>, allowed?: ArrayLike<number>): number {
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
 *
 * Cost is O(V) plus a sort of the tokens top-k / top-p can keep, never of the whole vocabulary
 * (see rankedTop). The result is exactly that of ranking every token by probability (a stable
 * sort, ties by id), taking the smallest prefix whose mass reaches topP, and walking it with one
 * uniform draw: the same tokens and log-probs for the same draws.
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
  // At temperature 1, z = logits exactly (float32 → float64 is exact), so its lse is rawLse.
  let z: ArrayLike<number> = logits;
  if (opts.temperature !== 1) {
    const scaled = new Float64Array(V);
    for (let i = 0; i < V; i++) scaled[i] = logits[i]! / opts.temperature;
    z = scaled;
  }
  const lse = opts.temperature === 1 ? rawLse : logSumExp(z, allowed);
  if (lse === -Infinity) return undefined;
  const probs = new Float64Array(V);
  for (let i = 0; i < V; i++) probs[i] = !allowed || allowed[i] ? Math.exp(z[i]! - lse) : 0;
  const topK = opts.topK && opts.topK > 0 ? opts.topK : 0;
  let support: ArrayLike<number>;
  if (topK > 0) {
    const ranked = rankedTop(probs, z, (_, n) => n >= topK).slice(0, topK);
    support = opts.topP < 1 ? nucleus(probs, ranked, opts.topP * massOf(probs, ranked)) ?? ranked : ranked;
  } else if (opts.topP < 1) {
    // The candidates cover topP with a margin far above float64 rounding, so the prefix ends
    // inside them; should it not, the whole ranking is taken, as a full sort would.
    support = nucleus(probs, rankedTop(probs, z, (m) => m >= opts.topP + MASS_MARGIN), opts.topP)
      ?? nucleus(probs, rankedTop(probs, z, () => false), opts.topP)
      ?? rankedTop(probs, z, () => false);
  } else {
    support = positiveIds(probs);
  }
  let total = 0;
  for (let k = 0; k < support.length; k++) total += probs[support[k]!]!;
  let u = rand() * total;
  let token = support[support.length - 1]!;
  for (let k = 0; k < support.length; k++) {
    const i = support[k]!;
    u -= probs[i]!;
    if (u <= 0) { token = i; break; }
  }
  return { token, logprob: logits[token]! - rawLse, samplingLogprob: Math.log(probs[token]! / total) };
}

/** Histogram buckets per nat below the best scaled logit (the last bucket is open-ended). */
const BUCKETS_PER_NAT = 8;
const BUCKETS = 256;
/** Mass the top-p candidates cover beyond topP: far above float64 summation error over 10⁶ terms. */
const MASS_MARGIN = 1e-9;

/**
 * The head of the probability ranking (descending, ties by id, as a stable sort of all ids would
 * give) that `enough(mass, count)` asks for, without sorting the vocabulary: one pass bins the
 * tokens by z (log-probability up to a constant) into buckets of 1/8 nat, the best buckets are
 * taken until `enough` holds, and only the ids with a probability at least the smallest taken
 * are sorted. That set is always a prefix of the full ranking (it holds every tie of its
 * smallest member), so callers can walk it as they would the full ranking.
 */
function rankedTop(probs: Float64Array, z: ArrayLike<number>, enough: (mass: number, count: number) => boolean): number[] {
  let zmax = -Infinity;
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0 && z[i]! > zmax) zmax = z[i]!;
  const mass = new Float64Array(BUCKETS);
  const count = new Uint32Array(BUCKETS);
  const least = new Float64Array(BUCKETS).fill(Infinity);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (!(p > 0)) continue;
    const b = Math.min(BUCKETS - 1, Math.floor((zmax - z[i]!) * BUCKETS_PER_NAT));
    mass[b] = mass[b]! + p;
    count[b] = count[b]! + 1;
    if (p < least[b]!) least[b] = p;
  }
  let m = 0;
  let n = 0;
  let floor = Infinity;
  for (let b = 0; b < BUCKETS; b++) {
    if (count[b] === 0) continue;
    m += mass[b]!;
    n += count[b]!;
    floor = Math.min(floor, least[b]!);
    if (enough(m, n)) break;
  }
  const ids: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0 && probs[i]! >= floor) ids.push(i);
  return ids.sort((x, y) => probs[y]! - probs[x]!);
}

/** The shortest prefix of `ranked` whose mass reaches `target`, or undefined if all of it falls short. */
function nucleus(probs: Float64Array, ranked: readonly number[], target: number): number[] | undefined {
  let mass = 0;
  for (let k = 0; k < ranked.length; k++) {
    mass += probs[ranked[k]!]!;
    if (mass >= target) return ranked.slice(0, k + 1);
  }
  return undefined;
}

function massOf(probs: Float64Array, ids: readonly number[]): number {
  let m = 0;
  for (const i of ids) m += probs[i]!;
  return m;
}

function positiveIds(probs: Float64Array): Int32Array {
  let n = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0) n++;
  const ids = new Int32Array(n);
  for (let i = 0, k = 0; i < probs.length; i++) if (probs[i]! > 0) ids[k++] = i;
  return ids;
}
