// npm run bench:learner — learner step throughput vs the machine's own MatMul limit, measured side by side.
// Prints {"bench":"learner","config":{...},"tokensPerSec":N,"gflops":N,"peakGflops":N,"ratio":N,"ratios":[…]}:
// the median ratio of `runs` (default 5) runs, each timing `steps` steps next to a fresh MatMul peak.
import { parseArgs } from 'node:util';
import { Learner, Policy, type TrainSample } from '../src/index.ts';
import { matmulPeak } from './peak.ts';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '4' }, dModel: { type: 'string', default: '256' }, heads: { type: 'string', default: '8' },
    vocab: { type: 'string', default: '256' }, batch: { type: 'string', default: '16' }, length: { type: 'string', default: '128' },
    steps: { type: 'string', default: '10' }, runs: { type: 'string', default: '5' }, threads: { type: 'string', default: '0' }, ep: { type: 'string', default: 'cpu' },
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
const runs = n('runs');
const d = config.dModel;
const ffn = 4 * d;
const M = B * T;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Each run times `steps` learner steps (median) and then the MatMul peak on the same shapes, so
// both see the same machine conditions; the figure is the median ratio over the runs.
const perRun: { stepMs: number; gflops: number; peakGflops: number; ratio: number }[] = [];
let lastPeak: Awaited<ReturnType<typeof matmulPeak>> | undefined;
for (let r = 0; r < runs; r++) {
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await learner.step(samples);
    times.push(performance.now() - t0);
  }
  const stepS = median(times) / 1000;
  lastPeak = await matmulPeak([[M, d, d], [M, d, ffn], [M, ffn, d], [M, d, config.vocabSize]], runtime, 10);
  const gflops = flops.total / stepS / 1e9;
  perRun.push({ stepMs: +(stepS * 1000).toFixed(2), gflops: +gflops.toFixed(2), peakGflops: +lastPeak.peak.toFixed(2), ratio: +(gflops / lastPeak.peak).toFixed(3) });
}
await policy.close();
const mid = [...perRun].sort((a, b) => a.ratio - b.ratio)[Math.floor(perRun.length / 2)]!;
console.log(JSON.stringify({
  bench: 'learner',
  config: { ...config, ffn, batch: B, length: T, tokensPerStep: B * T, ep: runtime.ep, threads: runtime.threads ?? 'default', steps, runs },
  stepMs: mid.stepMs,
  tokensPerSec: Math.round((B * T) / (mid.stepMs / 1000)),
  gflops: mid.gflops,
  peakGflops: mid.peakGflops,
  peakPerShape: Object.fromEntries(Object.entries(lastPeak!.perShape).map(([k, v]) => [k, +v.toFixed(1)])),
  matmulShareOfFlops: +(flops.matmul / flops.total).toFixed(3),
  ratio: mid.ratio,
  ratios: perRun.map((x) => x.ratio),
}));
