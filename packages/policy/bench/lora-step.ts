// npm run bench:lora-step -- --model <hf dir> — one learner step of an imported model, full
// fine-tuning vs LoRA, side by side in one run: step time and peak RSS of the process.
//
// Each case runs in a child process of its own (so its peak RSS is its own), `--rounds` times in
// turn (full, lora, full, lora, …):
// - full — every weight trained: AdamW moments for all of them, KL reference a second copy of the
//   model (as the learner holds it);
// - lora — adapters (--rank, --alpha, every projection) on the frozen base read from the folder;
//   AdamW moments for the adapters only; KL reference = the base, scored with the adapters off.
// A step is a PPO step (k3 KL to the reference, --klCoef) on --batch sequences of --length tokens
// (the first --prompt untrained), with the reference's log-probs scored first, as the learner does.
// Memory bounds are the engine's own (score row chunks, automatic micro-batches for a large
// vocabulary; --microBatchTokens to set one).
// Prints {"bench":"lora-step","model":dir,"config":{…},"cases":{case:{stepMs,peakRssMB,rounds}},"ratios":{fullOverLora:{stepMs,peakRssMB}}}.
// `--cases lora` runs one case; `--worker` runs the engine in a worker thread, as the learner does.
// A random model of a real shape: npx tsx scripts/hf-shaped-model.ts.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TrainSample } from '../src/engine/batch.ts';
import { modelConfigFromHf } from '../src/hf/config.ts';
import { readHfModel } from '../src/hf/read.ts';
import { Learner } from '../src/learner.ts';
import { parseModelConfig } from '../src/model/config.ts';
import { Policy } from '../src/policy.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, batch: { type: 'string', default: '8' }, length: { type: 'string', default: '512' }, prompt: { type: 'string', default: '384' },
    rank: { type: 'string', default: '8' }, alpha: { type: 'string', default: '16' }, klCoef: { type: 'string', default: '0.01' },
    microBatchTokens: { type: 'string', default: '0' }, steps: { type: 'string', default: '2' }, rounds: { type: 'string', default: '1' },
    threads: { type: 'string', default: '0' }, cases: { type: 'string', default: 'full,lora' }, child: { type: 'string' },
    worker: { type: 'boolean', default: false },
  },
});
if (!values.model) {
  process.stderr.write('usage: npm run bench:lora-step -- --model <hf dir> [--batch 8 --length 512 --prompt 384 --rank 8 --alpha 16 --steps 2 --rounds 1 --cases full,lora]\n');
  process.exit(2);
}
const n = (k: keyof typeof values) => Number(values[k]);
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function child(kind: 'full' | 'lora'): Promise<{ stepMs: number; peakRssMB: number }> {
  // --worker: the engine in a worker thread, as the learner service runs it.
  const runtime = { threads: n('threads') || undefined, worker: values.worker === true };
  const context = n('length') + 1;
  let policy: Policy;
  let reference: Policy | undefined;
  if (kind === 'full') {
    const hf = await readHfModel(values.model!, { context });
    policy = await Policy.create(hf.config, runtime);
    await policy.setState({ params: hf.params, step: 0, version: 0 });
    reference = await Policy.create(hf.config, runtime);
    await reference.setState({ params: hf.params, step: 0, version: 0 });
  } else {
    // Only the shape here: the engine reads the base weights itself (as every service does).
    const { config } = modelConfigFromHf(JSON.parse(await readFile(join(values.model!, 'config.json'), 'utf8')) as Record<string, unknown>, { context });
    policy = await Policy.create(parseModelConfig({ ...config, lora: { rank: n('rank'), alpha: n('alpha'), base: values.model! } }), runtime);
  }
  const config = policy.config;
  const learner = await Learner.create(policy, { klCoef: n('klCoef') }, { lr: 1e-5, ...(n('microBatchTokens') ? { microBatchTokens: n('microBatchTokens') } : {}) });
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const batch: TrainSample[] = Array.from({ length: n('batch') }, () => {
    const tokens = Array.from({ length: n('length') }, () => Math.floor(rnd() * Math.min(config.vocabSize, 30000)));
    return { tokens, mask: tokens.map((_, i) => (i >= n('prompt') ? 1 : 0)), advantage: rnd() * 2 - 1 };
  });
  const step = async () => {
    const scored = reference ? await reference.score(batch.map((s) => s.tokens)) : await policy.score(batch.map((s) => s.tokens), undefined, true);
    const m = await learner.step(batch.map((s, i) => ({ ...s, refLogprobs: scored[i]!.map((x, j) => (j === 0 ? 0 : x)) })));
    if (m.skipped) throw new Error('step skipped (non-finite)');
  };
  await step(); // warm-up: sessions compiled
  const times: number[] = [];
  for (let i = 0; i < n('steps'); i++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  return { stepMs: median(times), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
}

if (values.child) {
  const r = await child(values.child as 'full' | 'lora');
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

const cases = values.cases!.split(',') as ('full' | 'lora')[];
const results: Record<string, { stepMs: number; peakRssMB: number; rounds: { stepMs: number; peakRssMB: number }[] }> = {};
const self = fileURLToPath(import.meta.url);
for (let round = 0; round < n('rounds'); round++) {
  for (const c of cases) {
    const args = process.argv.slice(2).filter((a, i, all) => a !== '--cases' && all[i - 1] !== '--cases');
    const res = spawnSync(process.execPath, ['--import', 'tsx', self, ...args, '--child', c], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (res.status !== 0) throw new Error(`case ${c} failed (status ${res.status}, signal ${res.signal}): ${res.stderr.slice(-2000)}`);
    const r = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { stepMs: number; peakRssMB: number };
    (results[c] ??= { stepMs: 0, peakRssMB: 0, rounds: [] }).rounds.push(r);
  }
}
for (const r of Object.values(results)) {
  r.stepMs = Math.round(median(r.rounds.map((x) => x.stepMs)));
  r.peakRssMB = Math.max(...r.rounds.map((x) => x.peakRssMB));
}
const ratio = (k: 'stepMs' | 'peakRssMB') => (results.full && results.lora ? +(results.full[k] / results.lora[k]).toFixed(2) : undefined);
process.stdout.write(`${JSON.stringify({
  bench: 'lora-step', model: values.model,
  config: { batch: n('batch'), length: n('length'), prompt: n('prompt'), rank: n('rank'), alpha: n('alpha'), klCoef: n('klCoef'), microBatchTokens: n('microBatchTokens') || undefined, steps: n('steps') },
  cases: results, ratios: { fullOverLora: { stepMs: ratio('stepMs'), peakRssMB: ratio('peakRssMB') } },
})}\n`);
