// npm run bench:learner — learner step throughput vs the machine's own MatMul limit, one run.
// Prints {"bench":"learner","config":{...},"tokensPerSec":N,"gflops":N,"peakGflops":N,"ratio":N}.
import { parseArgs } from 'node:util';
import { Learner, Policy, type TrainSample } from '../src/index.ts';
import { matmulPeak } from './peak.ts';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '4' }, dModel: { type: 'string', default: '256' }, heads: { type: 'string', default: '8' },
    vocab: { type: 'string', default: '256' }, batch: { type: 'string', default: '16' }, length: { type: 'string', default: '128' },
    steps: { type: 'string', default: '10' }, threads: { type: 'string', default: '0' }, ep: { type: 'string', default: 'cpu' },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const B = n('batch');
const T = n('length');
const config = { layers: n('layers'), dModel: n('dModel'), heads: n('heads'), vocabSize: n('vocab'), context: T + 1, seed: 1 };
const runtime = { ep: values.ep as 'cpu' | 'cuda', threads: n('threads') || undefined, worker: false };

const policy = await Policy.create(config, runtime);
const learner = await Learner.create(policy, { kind: 'ppo', entropyCoef: 0.01 }, { lr: 1e-4 });
let seed = 1;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const samples: TrainSample[] = Array.from({ length: B }, () => {
  const tokens = Array.from({ length: T + 1 }, () => Math.floor(rand() * config.vocabSize));
  return { tokens, mask: tokens.map((_, i) => (i === 0 ? 0 : 1)), advantage: rand() - 0.5, logprobs: tokens.map(() => -Math.log(config.vocabSize)) };
});
const flops = await learner.flops(B, T);
await learner.step(samples);
await learner.step(samples);
const steps = n('steps');
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await learner.step(samples);
  times.push(performance.now() - t0);
}
await policy.close();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]! / 1000;
const d = config.dModel;
const ffn = 4 * d;
const M = B * T;
const peak = await matmulPeak([[M, d, d], [M, d, ffn], [M, ffn, d], [M, d, config.vocabSize]], runtime);
const gflops = flops.total / median / 1e9;
console.log(JSON.stringify({
  bench: 'learner',
  config: { ...config, ffn, batch: B, length: T, tokensPerStep: B * T, ep: runtime.ep, threads: runtime.threads ?? 'default', steps },
  stepMs: +(median * 1000).toFixed(2),
  tokensPerSec: Math.round((B * T) / median),
  gflops: +gflops.toFixed(2),
  peakGflops: +peak.peak.toFixed(2),
  peakPerShape: Object.fromEntries(Object.entries(peak.perShape).map(([k, v]) => [k, +v.toFixed(1)])),
  matmulShareOfFlops: +(flops.matmul / flops.total).toFixed(3),
  ratio: +(gflops / peak.peak).toFixed(3),
}));
