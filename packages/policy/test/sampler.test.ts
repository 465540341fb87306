import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleToken, uniform, type SampleOptions, type Sampled } from '../src/generate/sampler.ts';
import { rng } from './gradcheck.ts';

/**
 * The oracle: the sampler as it was before it stopped sorting the vocabulary (a full stable sort
 * by probability for top-p), extended with top-k the obvious way (the first k of that ranking,
 * then top-p over their renormalised mass).
 */
function referenceSample(logits: Float32Array, opts: SampleOptions, rand: () => number, allowed?: ArrayLike<number>): Sampled | undefined {
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

/** Logits of several shapes: spread, coarse (many exact ties), one dominant token, all equal. */
function logitsOf(kind: string, V: number, r: () => number): Float32Array {
  const x = Float32Array.from({ length: V }, () => (r() + r() + r() - 1.5) * 4);
  if (kind === 'ties') for (let i = 0; i < V; i++) x[i] = Math.round(x[i]! * 2) / 2;
  if (kind === 'peaked') x[Math.floor(r() * V)] = 30;
  if (kind === 'flat') x.fill(0.25);
  return x;
}

function masksOf(V: number, r: () => number): (Uint8Array | undefined)[] {
  const half = Uint8Array.from({ length: V }, () => (r() < 0.5 ? 1 : 0));
  const few = new Uint8Array(V);
  for (let k = 0; k < 3; k++) few[Math.floor(r() * V)] = 1;
  return [undefined, half, few];
}

function same(a: Sampled | undefined, b: Sampled | undefined, what: string): void {
  assert.deepEqual(a, b, what);
}

test('the sampler returns exactly the tokens and log-probs of the full-sort sampler (seeds, temperatures, top-p, masks, ties)', () => {
  const r = rng(17);
  let calls = 0;
  for (const V of [7, 300, 5000]) {
    for (const kind of ['spread', 'ties', 'peaked', 'flat']) {
      const logits = logitsOf(kind, V, r);
      for (const [m, allowed] of masksOf(V, r).entries()) {
        for (const temperature of [0, 0.3, 1, 1.7]) {
          for (const topP of [1, 0.999, 0.95, 0.9, 0.5, 0.1, 1e-9]) {
            const seed = Math.floor(r() * 1e9);
            const [ra, rb] = [uniform(seed), uniform(seed)];
            for (let draw = 0; draw < 3; draw++) {
              same(sampleToken(logits, { temperature, topP }, ra, allowed), referenceSample(logits, { temperature, topP }, rb, allowed),
                `V ${V} ${kind} mask ${m} T ${temperature} topP ${topP} draw ${draw}`);
              calls++;
            }
          }
        }
      }
    }
  }
  assert.equal(calls, 3 * 4 * 3 * 4 * 7 * 3);
});

test('at a Qwen-sized vocabulary (151,936) the sampler matches the full-sort sampler', () => {
  const r = rng(5);
  const logits = logitsOf('spread', 151_936, r);
  for (const [temperature, topP] of [[0.7, 0.9], [1, 0.95], [1, 1], [1.2, 0.5]] as const) {
    const [ra, rb] = [uniform(11), uniform(11)];
    for (let draw = 0; draw < 3; draw++) same(sampleToken(logits, { temperature, topP }, ra), referenceSample(logits, { temperature, topP }, rb), `T ${temperature} topP ${topP}`);
  }
});

test('top-k keeps the k most probable allowed tokens (ties by id), then top-p over their mass', () => {
  const r = rng(23);
  for (const V of [7, 300, 5000]) {
    for (const kind of ['spread', 'ties', 'flat']) {
      const logits = logitsOf(kind, V, r);
      for (const [m, allowed] of masksOf(V, r).entries()) {
        for (const topK of [1, 5, 40, V + 3]) {
          for (const [temperature, topP] of [[1, 1], [0.6, 1], [1, 0.8], [1.5, 0.3]] as const) {
            const seed = Math.floor(r() * 1e9);
            const [ra, rb] = [uniform(seed), uniform(seed)];
            for (let draw = 0; draw < 3; draw++) {
              same(sampleToken(logits, { temperature, topP, topK }, ra, allowed), referenceSample(logits, { temperature, topP, topK }, rb, allowed),
                `V ${V} ${kind} mask ${m} k ${topK} T ${temperature} topP ${topP}`);
            }
          }
        }
      }
      // k = 1 is greedy: the first most probable token, sampled with probability 1.
      const one = sampleToken(logits, { temperature: 1, topP: 1, topK: 1 }, uniform(3))!;
      assert.equal(one.token, sampleToken(logits, { temperature: 0, topP: 1 }, uniform(3))!.token);
      assert.equal(one.samplingLogprob, 0);
    }
  }
});
