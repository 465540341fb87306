// npm run bench:mixed-lengths — a learner step on a batch of mixed lengths, as one padded graph run
// and as length-bucketed micro-batches (engine/split.ts), timed side by side in one process.
// The default batch is absolute-zero's shape: 128 rows, most short (solver answers, ~40 tokens),
// a few long (proposer prompts full of references, ~120 tokens), on the shipped 2×64 model.
// Prints {"bench":"mixed-lengths","config":{…},"wholeMs":N,"splitMs":N,"speedup":N,"parts":[rows,…]}
// (medians over --steps steps each, alternating whole and split so both see the same machine).
import { parseArgs } from 'node:util';
import { EngineCore } from '../src/engine/core.ts';
import type { TrainSample } from '../src/engine/batch.ts';
import { splitByLength } from '../src/engine/split.ts';
import { parseModelConfig } from '../src/model/config.ts';
import { parseLossConfig } from '../src/train/loss.ts';
import { parseOptimizerConfig } from '../src/train/optimizer.ts';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '2' }, dModel: { type: 'string', default: '64' }, heads: { type: 'string', default: '4' },
    vocab: { type: 'string', default: '64' }, context: { type: 'string', default: '128' },
    short: { type: 'string', default: '114' }, shortLength: { type: 'string', default: '40' },
    long: { type: 'string', default: '14' }, longLength: { type: 'string', default: '120' },
    steps: { type: 'string', default: '15' }, threads: { type: 'string', default: '0' },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const config = parseModelConfig({ layers: n('layers'), dModel: n('dModel'), heads: n('heads'), vocabSize: n('vocab'), context: n('context'), seed: 1 });
const engine = new EngineCore(config, { threads: n('threads') || undefined });
engine.configureTraining(parseLossConfig({ kind: 'ppo', entropyCoef: 0.01 }), parseOptimizerConfig({ lr: 1e-4 }));
let seed = 1;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const row = (length: number, answer: number): TrainSample => {
  const tokens = Array.from({ length }, () => Math.floor(rand() * config.vocabSize));
  return { tokens, mask: tokens.map((_, i) => (i >= length - answer ? 1 : 0)), advantage: rand() - 0.5, logprobs: tokens.map(() => -Math.log(config.vocabSize)) };
};
const samples = [...Array.from({ length: n('short') }, () => row(n('shortLength'), 8)), ...Array.from({ length: n('long') }, () => row(n('longLength'), 24))];
const parts = splitByLength(samples.map((s) => s.tokens.length - 1), config.context);
// Compile both paths' graphs before timing.
await engine.trainStep(samples, false);
await engine.trainStep(samples, true);
const whole: number[] = [];
const split: number[] = [];
for (let i = 0; i < n('steps'); i++) {
  for (const [on, times] of [[false, whole], [true, split]] as const) {
    const t0 = performance.now();
    await engine.trainStep(samples, on);
    times.push(performance.now() - t0);
  }
}
await engine.close();
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [w, s] = [median(whole), median(split)];
console.log(JSON.stringify({
  bench: 'mixed-lengths',
  config: { layers: config.layers, dModel: config.dModel, heads: config.heads, vocab: config.vocabSize, context: config.context, rows: samples.length, short: `${n('short')}×${n('shortLength')}`, long: `${n('long')}×${n('longLength')}`, steps: n('steps') },
  wholeMs: +w.toFixed(1), splitMs: +s.toFixed(1), speedup: +(w / s).toFixed(2), parts: parts.map((p) => p.length),
}));
