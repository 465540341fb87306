import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceSampleToken as referenceSample } from '../src/generate/reference-sampler.ts';
import { sampleToken, uniform, type Sampled } from '../src/generate/sampler.ts';
import { rng } from './gradcheck.ts';

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

test('top-p matches the full-sort sampler where the nucleus needs the whole ranking or probabilities underflow', () => {
  const r = rng(31);
  for (const V of [50, 3000]) {
    // Logits spread over 900 nats: the tail's probabilities (and the normaliser's terms) underflow to 0.
    const wide = Float32Array.from({ length: V }, () => -r() * 900);
    wide[Math.floor(r() * V)] = 0;
    // One dominant token, the rest 20–40 nats below it: the nucleus reaches the open-ended bucket.
    const far = Float32Array.from({ length: V }, () => -20 - r() * 20);
    far[0] = 0;
    for (const [name, logits] of [['wide', wide], ['far', far], ['spread', logitsOf('spread', V, r)]] as const) {
      for (const [m, allowed] of masksOf(V, r).entries()) {
        for (const temperature of [0.05, 1, 3]) {
          for (const topP of [1 - 1e-12, 1 - 1e-15, 0.999999, 0.9, 1e-9]) {
            const seed = Math.floor(r() * 1e9);
            const [ra, rb] = [uniform(seed), uniform(seed)];
            for (let draw = 0; draw < 3; draw++) {
              same(sampleToken(logits, { temperature, topP }, ra, allowed), referenceSample(logits, { temperature, topP }, rb, allowed),
                `V ${V} ${name} mask ${m} T ${temperature} topP ${topP} draw ${draw}`);
            }
          }
        }
      }
    }
  }
});

test('the sampler reuses its scratch rows across vocabulary sizes without carrying values over', () => {
  const r = rng(41);
  const [ra, rb] = [uniform(9), uniform(9)];
  for (const V of [5000, 7, 300, 5000, 2, 151]) {
    const logits = logitsOf('spread', V, r);
    const allowed = V > 2 ? masksOf(V, r)[1] : undefined;
    for (const opts of [{ temperature: 1, topP: 1 }, { temperature: 0.7, topP: 0.9 }, { temperature: 1, topP: 0.5, topK: 3 }, { temperature: 0, topP: 1 }]) {
      same(sampleToken(logits, opts, ra, allowed), referenceSample(logits, opts, rb, allowed), `V ${V} ${JSON.stringify(opts)}`);
    }
  }
});
