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

/**
 * Scratch rows reused by every call (sampleToken is synchronous and returns no view of them), so
 * a token allocates nothing of size V. `exps[i]` = exp(z_i − zmax) (the terms of the normaliser),
 * `probs[i]` = exp(z_i − lse) where a path needs it, `scaled[i]` = logit_i / temperature.
 */
let exps = new Float64Array(0);
let probs = new Float64Array(0);
let scaled = new Float64Array(0);
let idScratch = new Int32Array(0);

function scratch(V: number): void {
  if (exps.length >= V) return;
  exps = new Float64Array(V);
  probs = new Float64Array(V);
  scaled = new Float64Array(V);
  idScratch = new Int32Array(V);
}

/** max over the allowed entries (-Infinity when none is allowed), as the oracle's logSumExp finds it. */
function allowedMax(x: ArrayLike<number>, V: number, allowed?: ArrayLike<number>): number {
  let max = -Infinity;
  if (allowed) { for (let i = 0; i < V; i++) if (allowed[i] && x[i]! > max) max = x[i]!; }
  else for (let i = 0; i < V; i++) if (x[i]! > max) max = x[i]!;
  return max;
}

/**
 * Σ exp(x_i − max) over the allowed entries, in id order (the oracle's logSumExp sum); with `keep`,
 * each term is stored in keep[i] (0 where not allowed).
 */
function expSum(x: ArrayLike<number>, V: number, max: number, allowed?: ArrayLike<number>, keep?: Float64Array): number {
  let s = 0;
  if (keep) {
    if (allowed) {
      for (let i = 0; i < V; i++) {
        if (allowed[i]) { const e = Math.exp(x[i]! - max); keep[i] = e; s += e; } else keep[i] = 0;
      }
    } else for (let i = 0; i < V; i++) { const e = Math.exp(x[i]! - max); keep[i] = e; s += e; }
  } else if (allowed) { for (let i = 0; i < V; i++) if (allowed[i]) s += Math.exp(x[i]! - max); }
  else for (let i = 0; i < V; i++) s += Math.exp(x[i]! - max);
  return s;
}

/** probs[i] = exp(z_i − lse) for every allowed id, 0 for the others: the reference's probabilities. */
function fillProbs(z: ArrayLike<number>, V: number, lse: number, allowed?: ArrayLike<number>): void {
  if (allowed) for (let i = 0; i < V; i++) probs[i] = allowed[i] ? Math.exp(z[i]! - lse) : 0;
  else for (let i = 0; i < V; i++) probs[i] = Math.exp(z[i]! - lse);
}

/**
 * Sample one token from logits (one row). `allowed` (nonzero = allowed) restricts the support;
 * returns undefined when nothing is allowed.
 *
 * The result is exactly that of ranking every allowed token by probability (a stable sort, ties
 * by id), taking the first topK, then the shortest prefix whose mass reaches topP, and walking it
 * with one uniform draw (referenceSampleToken, the oracle): the same tokens and log-probs, bit for
 * bit, for the same draws. It computes the same float64 values as the oracle (every exp the oracle
 * takes for a value that reaches the result is taken on the same argument), only fewer of them:
 * - no step sorts the vocabulary: top-k keeps a heap of k ids, top-p sorts only the ids that can
 *   be in the nucleus (rankedTop), and topP = 1 walks the ids in order;
 * - at temperature 1 the scaled logits are the logits (float32 → float64 is exact), so the
 *   normaliser is computed once and nothing is copied;
 * - top-p without top-k takes exp(z − lse) only for the ids near the nucleus, ranking the rest by
 *   the normaliser's own terms exp(z − zmax) (cachedTop); topP = 1 and top-k need every
 *   probability, so they take V exps for it, as the oracle does;
 * - scratch rows are reused, so a token allocates nothing of size V.
 * Exps per id: the raw normaliser (for `logprob`), the scaled one unless temperature is 1, and the
 * probabilities unless top-p alone is on (then one per id near the nucleus) — at temperature 1
 * and topP = 1, 2 per id; the oracle took 2–3 per id in every mode. Plus a sort of the nucleus,
 * which is large only for a nearly flat distribution. Math.exp is most of the time at large V.
 */
export function sampleToken(logits: Float32Array, opts: SampleOptions, rand: () => number, allowed?: ArrayLike<number>): Sampled | undefined {
  const V = logits.length;
  scratch(V);
  const T = opts.temperature;
  const topK = opts.topK && opts.topK > 0 ? opts.topK : 0;
  const nucleusOnly = T > 0 && topK === 0 && opts.topP < 1;
  const rawMax = allowedMax(logits, V, allowed);
  if (rawMax === -Infinity) return T <= 0 ? greedy(logits, V, -Infinity, allowed) : undefined;
  // At temperature 1 the normaliser's terms are the scaled ones too: keep them for top-p.
  const rawSum = expSum(logits, V, rawMax, allowed, T === 1 && nucleusOnly ? exps : undefined);
  const rawLse = rawMax + Math.log(rawSum);
  if (T <= 0) return greedy(logits, V, rawLse, allowed);
  let z: ArrayLike<number> = logits;
  let zmax = rawMax;
  let zsum = rawSum;
  let lse = rawLse;
  if (T !== 1) {
    for (let i = 0; i < V; i++) scaled[i] = logits[i]! / T;
    z = scaled;
    zmax = allowedMax(scaled, V, allowed);
    if (zmax === -Infinity) return undefined;
    zsum = expSum(scaled, V, zmax, allowed, nucleusOnly ? exps : undefined);
    lse = zmax + Math.log(zsum);
  }
  if (lse === -Infinity) return undefined;
  const p = probs.subarray(0, V);
  let support: Ids;
  if (nucleusOnly) {
    // The candidates cover topP with a margin far above float64 rounding, so the prefix ends
    // inside them; should it not, the whole ranking is walked, as the full sort would.
    const top = cachedTop(z, V, zmax, zsum, lse, opts.topP + MASS_MARGIN);
    const found = top && nucleus(p, top, opts.topP);
    if (found) support = found;
    else {
      fillProbs(z, V, lse, allowed);
      const all = rankedTop(p, z, () => false);
      support = nucleus(p, all, opts.topP) ?? all;
    }
  } else {
    fillProbs(z, V, lse, allowed);
    if (topK === 0) return walkInOrder(logits, p, rand, rawLse);
    const ranked = topKRanked(p, topK);
    support = opts.topP < 1 ? nucleus(p, ranked, opts.topP * massOf(p, ranked)) ?? ranked : ranked;
  }
  let total = 0;
  for (const i of support) total += p[i]!;
  let u = rand() * total;
  let token = support[support.length - 1]!;
  for (const i of support) {
    u -= p[i]!;
    if (u <= 0) { token = i; break; }
  }
  return { token, logprob: logits[token]! - rawLse, samplingLogprob: Math.log(p[token]! / total) };
}

/** Temperature 0: the first allowed id of the largest logit (undefined when none is allowed). */
function greedy(logits: Float32Array, V: number, rawLse: number, allowed?: ArrayLike<number>): Sampled | undefined {
  let best = -1;
  for (let i = 0; i < V; i++) if ((!allowed || allowed[i]) && (best < 0 || logits[i]! > logits[best]!)) best = i;
  if (best < 0) return undefined;
  return { token: best, logprob: logits[best]! - rawLse, samplingLogprob: 0 };
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

/** Token ids in rank order: a JS array, or an Int32Array where cachedTop built it. */
type Ids = readonly number[] | Int32Array;

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

/**
 * rankedTop for top-p without computing every probability. The buckets are filled from the
 * normaliser's terms `exps[i]` = exp(z_i − zmax) (their share of `zsum` is the probability up to
 * float64 rounding, which MASS_MARGIN covers); only the ids whose z lies within the buckets taken
 * plus one nat get their exact probability exp(z_i − lse), written into `probs`. Any id further
 * down is at least e^0.99 times less probable than every id of the buckets taken, so it can be
 * neither above nor tied with the smallest of them (that smallest is within 32 nats of the most
 * probable id, so at least e^-32 / V: far from the subnormal range, where exp's results could
 * tie across that gap), and the ids returned are exactly rankedTop's. Returns undefined (the
 * caller computes every probability) when the mass wanted is not reached before the open-ended
 * last bucket.
 */
function cachedTop(z: ArrayLike<number>, V: number, zmax: number, zsum: number, lse: number, massWanted: number): Int32Array | undefined {
  const E = exps; // locals: the hot loops and the sort's comparator read them without a module-binding load
  const P = probs;
  const mass = new Float64Array(BUCKETS);
  for (let i = 0; i < V; i++) {
    const e = E[i]!;
    if (!(e > 0)) continue;
    const b = Math.min(BUCKETS - 1, Math.floor((zmax - z[i]!) * BUCKETS_PER_NAT));
    mass[b] = mass[b]! + e;
  }
  const target = massWanted * zsum;
  let m = 0;
  let last = -1;
  for (let b = 0; b < BUCKETS - 1; b++) {
    m += mass[b]!;
    if (m >= target) { last = b; break; }
  }
  if (last < 0) return undefined;
  const zcut = zmax - (last + 1) / BUCKETS_PER_NAT - 1;
  // Ids go into an Int32Array: pushing ~10⁴ ids onto a fresh JS array cost more than their exps.
  const ids = idScratch;
  let n = 0;
  let floor = Infinity;
  for (let i = 0; i < V; i++) {
    if (!(E[i]! > 0) || !(z[i]! >= zcut)) continue;
    const p = Math.exp(z[i]! - lse);
    P[i] = p;
    if (!(p > 0)) continue;
    ids[n++] = i;
    if (Math.min(BUCKETS - 1, Math.floor((zmax - z[i]!) * BUCKETS_PER_NAT)) <= last && p < floor) floor = p;
  }
  let kept = 0;
  for (let k = 0; k < n; k++) if (P[ids[k]!]! >= floor) ids[kept++] = ids[k]!;
  // A copy (the scratch is reused by the next call), sorted stably: ties stay in id order.
  return ids.slice(0, kept).sort((x, y) => P[y]! - P[x]!);
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
function nucleus<R extends Ids>(probs: Float64Array, ranked: R, target: number): R | undefined {
  let mass = 0;
  for (let k = 0; k < ranked.length; k++) {
    mass += probs[ranked[k]!]!;
    if (mass >= target) return ranked.slice(0, k + 1) as R;
  }
  return undefined;
}

function massOf(probs: Float64Array, ids: readonly number[]): number {
  let m = 0;
  for (const i of ids) m += probs[i]!;
  return m;
}
