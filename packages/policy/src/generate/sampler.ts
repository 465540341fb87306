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

/** log Σ exp over the allowed entries; -Infinity when none is allowed. */
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
 *
 * The result is exactly that of ranking every allowed token by probability (a stable sort, ties
 * by id), taking the first topK, then the shortest prefix whose mass reaches topP, and walking it
 * with one uniform draw (referenceSampleToken, the oracle): the same tokens and log-probs for the
 * same draws. No step sorts the vocabulary: top-k keeps a heap of k ids, top-p sorts only the ids
 * that can be in the nucleus (rankedTop), and topP = 1 walks the ids in order. The cost is O(V)
 * plus a sort of the nucleus, which is large only for a nearly flat distribution.
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
  // At temperature 1, z holds the logits exactly (float32 → float64 is exact): its lse is rawLse.
  const lse = opts.temperature === 1 ? rawLse : logSumExp(z, allowed);
  if (lse === -Infinity) return undefined;
  const probs = new Float64Array(V);
  if (allowed) for (let i = 0; i < V; i++) probs[i] = allowed[i] ? Math.exp(z[i]! - lse) : 0;
  else for (let i = 0; i < V; i++) probs[i] = Math.exp(z[i]! - lse);
  const topK = opts.topK && opts.topK > 0 ? opts.topK : 0;
  let support: readonly number[];
  if (topK > 0) {
    const ranked = topKRanked(probs, topK);
    support = opts.topP < 1 ? nucleus(probs, ranked, opts.topP * massOf(probs, ranked)) ?? ranked : ranked;
  } else if (opts.topP < 1) {
    // The candidates cover topP with a margin far above float64 rounding, so the prefix ends
    // inside them; should it not, the whole ranking is walked, as the full sort would.
    support = nucleus(probs, rankedTop(probs, z, (m) => m >= opts.topP + MASS_MARGIN), opts.topP)
      ?? nucleus(probs, rankedTop(probs, z, () => false), opts.topP)
      ?? rankedTop(probs, z, () => false);
  } else {
    return walkInOrder(logits, probs, rand, rawLse);
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

/** topP = 1, no top-k: every id with a positive probability, in id order. */
function walkInOrder(logits: Float32Array, probs: Float64Array, rand: () => number, rawLse: number): Sampled {
  let total = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0) { total += probs[i]!; last = i; }
  let u = rand() * total;
  let token = last;
  for (let i = 0; i < probs.length; i++) {
    if (!(probs[i]! > 0)) continue;
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
 * tokens by z (log-probability up to a constant) into buckets of 1/8 nat below the best, the
 * best buckets are taken until `enough` holds, and only the ids with a probability at least the
 * smallest taken are sorted. That set is always a prefix of the full ranking (it holds every tie
 * of its smallest member), so callers can walk it as they would the full ranking.
 */
function rankedTop(probs: Float64Array, z: Float64Array, enough: (mass: number, count: number) => boolean): number[] {
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

/**
 * The first k of the ranking (probability descending, ties by id): one pass keeping the k best in
 * a heap whose root is the worst kept, then a sort of those k.
 */
function topKRanked(probs: Float64Array, k: number): number[] {
  // a ranks below b: lower probability, or equal and a larger id
  const below = (a: number, b: number) => probs[a]! < probs[b]! || (probs[a] === probs[b] && a > b);
  const heap: number[] = [];
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let worst = at;
      if (l < heap.length && below(heap[l]!, heap[worst]!)) worst = l;
      if (r < heap.length && below(heap[r]!, heap[worst]!)) worst = r;
      if (worst === at) return;
      [heap[at], heap[worst]] = [heap[worst]!, heap[at]!];
      at = worst;
    }
  };
  for (let i = 0; i < probs.length; i++) {
    if (!(probs[i]! > 0)) continue;
    if (heap.length < k) {
      heap.push(i);
      for (let at = heap.length - 1; at > 0;) {
        const up = (at - 1) >> 1;
        if (!below(heap[at]!, heap[up]!)) break;
        [heap[at], heap[up]] = [heap[up]!, heap[at]!];
        at = up;
      }
    } else if (below(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((x, y) => probs[y]! - probs[x]! || x - y);
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
