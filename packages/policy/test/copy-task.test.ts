import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Learner, Policy, type TrainSample } from '../src/index.ts';
import { rng } from './gradcheck.ts';

// Copy task: <bos> a b c <sep> → a b c (fixed length). Tokens: 0 pad, 1 bos, 2 sep, 3 unused, 4..8 symbols.
const MINIBATCHES = 4;
const BOS = 1, SEP = 2, FIRST = 4, SYMBOLS = 5, LEN = 3;

function reward(src: number[], out: ArrayLike<number>): number {
  const want = src;
  let hit = 0;
  for (let i = 0; i < want.length; i++) if (out[i] === want[i]) hit++;
  return hit / want.length;
}

test('PPO learns the copy task (mean sampled reward ≥ 0.95)', async () => {
  const policy = await Policy.create({ vocabSize: FIRST + SYMBOLS, layers: 2, dModel: 32, heads: 4, context: 12, seed: 1 }, { threads: 2 });
  try {
    const learner = await Learner.create(policy, { kind: 'ppo', clipHigh: 0.28, entropyCoef: 0.02 }, { lr: 3e-3, maxGradNorm: 1 });
    const r = rng(42);
    const G = 8;
    let meanReward = 0;
    const curve: number[] = [];
    for (let it = 0; it < 300 && meanReward < 0.95; it++) {
      const srcs = Array.from({ length: 16 }, () => Array.from({ length: LEN }, () => FIRST + Math.floor(r() * SYMBOLS)));
      const prompts = srcs.flatMap((s) => Array.from({ length: G }, () => [BOS, ...s, SEP]));
      const gen = await policy.generate(prompts, { maxNewTokens: LEN, temperature: 1, seed: it });
      const rewards = gen.rows.map((row, i) => reward(srcs[Math.floor(i / G)]!, row.tokens));
      meanReward = rewards.reduce((a, b) => a + b, 0) / rewards.length;
      curve.push(meanReward);
      const samples: TrainSample[] = [];
      for (let k = 0; k < srcs.length; k++) {
        const grp = rewards.slice(k * G, (k + 1) * G);
        const mu = grp.reduce((a, b) => a + b, 0) / G;
        const sd = Math.sqrt(grp.reduce((a, b) => a + (b - mu) ** 2, 0) / (G - 1));
        for (let j = 0; j < G; j++) {
          const i = k * G + j;
          const row = gen.rows[i]!;
          const tokens = [...prompts[i]!, ...row.tokens];
          const mask = tokens.map((_, t) => (t >= prompts[i]!.length ? 1 : 0));
          const logprobs = [...new Array(prompts[i]!.length).fill(0), ...row.logprobs];
          samples.push({ tokens, mask, logprobs, advantage: (grp[j]! - mu) / (sd + 1e-6) });
        }
      }
      // PPO: several minibatch updates per batch of rollouts (importance ratio vs behaviour log-probs).
      for (let e = 0; e < MINIBATCHES; e++) {
        const m = await learner.step(samples.filter((_, i) => i % MINIBATCHES === e));
        assert.equal(m.skipped, false);
      }
    }
    console.log(`copy task reward curve: ${curve.map((x) => x.toFixed(2)).join(' ')}`);
    assert.ok(meanReward >= 0.95, `mean reward ${meanReward.toFixed(3)} after ${curve.length} iterations`);
    assert.equal(policy.version, curve.length * MINIBATCHES);
  } finally {
    await policy.close();
  }
});
