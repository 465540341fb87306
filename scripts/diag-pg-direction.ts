// Diagnostic: does a learner step move each sample's log-prob in its advantage's direction? One batch of
// a generator-task recipe (rlvr-fixed by default), judged and estimated as the learner service does,
// scored before and after K PPO steps on it; also checks the sampler's behaviour log-probs equal the
// scorer's under the judge's allowed sets.
//   FROM=<checkpoint | export> [LR=0.001] [K=3] npx tsx scripts/diag-pg-direction.ts [config]
import { parseExperiment, type Trajectory } from '@spar/core';
import { AdvantageEstimator, Learner, Policy, readSourceWeights, type EstimatorSpec } from '@spar/policy';
import { builtinRecipes, modelConfigFor, vocabularyFor, type PolicyHandle } from '@spar/recipes';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { estimatorBatch, trainSamples } from '../services/learner/src/batch.ts';

const reg = builtinRecipes();
const raw = YAML.parse(readFileSync(process.argv[2] ?? 'configs/rlvr-fixed.yaml', 'utf8'));
raw.learner.optimizer.lr = Number(process.env.LR ?? 1e-3);
const config = parseExperiment(raw, reg);
const recipe = reg.get(config.recipe);
const vocab = vocabularyFor(recipe, config);
const policy = await Policy.create(modelConfigFor(config, vocab), { worker: false });
if (process.env.FROM) {
  const src = await readSourceWeights(process.env.FROM);
  await policy.setState({ params: src.params, step: 0, version: 1 });
}
const learner = await Learner.create(policy, config.learner.loss, config.learner.optimizer);
const spec = config.learner.estimator as EstimatorSpec;
const est = await AdvantageEstimator.create(spec);
const segs = recipe.segments(config.options);
const h: PolicyHandle = { vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
const trajs: Omit<Trajectory, 'trajectoryId'>[] = [];
while (trajs.length < 128) {
  const [p] = await recipe.propose({ config, buffer: [], count: 1, rng: Math.random });
  const v = recipe.validateTask(p!.task, config.options);
  if (!v.valid) continue;
  const eps = await recipe.rollout({ config, policy: h, rng: Math.random }, v.task, config.rollout.groupSize);
  trajs.push(...recipe.judge(v.task, eps, undefined, config.options, vocab, config).trajectories);
}
const batch = trajs.map((t, i) => ({ ...t, trajectoryId: String(i) })) as Trajectory[];
const r = await est.compute(estimatorBatch(spec, batch, new Map(segs.map((s, i) => [s, i]))), undefined);
const samples = trainSamples(batch, r.advantages, r.keep).map((s) => ({ ...s, logprobs: s.logprobs!, advantage: s.advantage as number }));
const seqLp = async () => {
  const sc = await policy.score(samples.map((s) => s.tokens), samples.map((s) => s.allowed ?? null));
  return sc.map((lp, i) => { let t = 0; for (let j = 0; j < lp.length; j++) if (samples[i]!.mask[j]) t += lp[j]!; return t; });
};
const before = await seqLp();
// behaviour logprobs recorded by the sampler vs the scorer
let dmax = 0;
samples.forEach((s, i) => { let t = 0; for (let j = 0; j < s.tokens.length; j++) if (s.mask[j]) t += s.logprobs[j]!; dmax = Math.max(dmax, Math.abs(t - before[i]!)); });
console.log('samples', samples.length, 'positive adv', samples.filter((s) => s.advantage > 0).length, 'negative', samples.filter((s) => s.advantage < 0).length, 'max |behaviour - scored| seq logprob', dmax.toFixed(5));
for (let k = 0; k < Number(process.env.K ?? 3); k++) {
  const m = await learner.step(samples);
  const after = await seqLp();
  const d = after.map((a, i) => a - before[i]!);
  const mean = (f: (i: number) => boolean) => { const ix = d.map((_, i) => i).filter(f); return ix.reduce((s, i) => s + d[i]!, 0) / Math.max(1, ix.length); };
  console.log(`step ${k + 1}: loss ${m.loss.toFixed(4)} Δlogp(adv>0) ${mean((i) => samples[i]!.advantage > 0).toFixed(4)} Δlogp(adv<0) ${mean((i) => samples[i]!.advantage < 0).toFixed(4)} Σ adv·Δlogp ${d.reduce((s, x, i) => s + x * samples[i]!.advantage, 0).toFixed(4)}`);
}
await policy.close();
