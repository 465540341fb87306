// Diagnostic: where one learner cycle's time goes on a recipe's real batches (no services):
// estimator, KL-reference scoring, the train step, weight publishing (safetensors + sha256).
//   npx tsx scripts/diag-learner-phases.ts configs/tictactoe.yaml [repeats]
import { readFileSync } from 'node:fs';
import { parseExperiment, parseConfigText, type Trajectory } from '@spar/core';
import { AdvantageEstimator, isStateful, Learner, Policy, policyWeights, type EstimatorSpec } from '@spar/policy';
import { builtinRecipes, modelConfigFor, vocabularyFor, type PolicyHandle } from '@spar/recipes';
import { estimatorBatch, trainSamples } from '../services/learner/src/batch.ts';
import { ReferencePolicy } from '../services/learner/src/reference.ts';

const reg = builtinRecipes();
const config = parseExperiment(parseConfigText(readFileSync(process.argv[2] ?? 'configs/tictactoe.yaml', 'utf8')), reg);
const repeats = Number(process.argv[3] ?? 10);
const recipe = reg.get(config.recipe);
const vocab = vocabularyFor(recipe, config);
const runtime = { worker: true, threads: Number(process.env.THREADS ?? 0) || undefined, spinning: false } as const;
const policy = await Policy.create(modelConfigFor(config, vocab), runtime);
const learner = await Learner.create(policy, config.learner.loss, config.learner.optimizer);
const reference = config.learner.loss.klCoef > 0 ? await ReferencePolicy.create(policy.config, runtime, undefined, policy) : undefined;
const segs = recipe.segments(config.options);
const spec = (isStateful(config.learner.estimator) ? { ...config.learner.estimator, numKeys: config.learner.estimator.numKeys ?? segs.length } : config.learner.estimator) as EstimatorSpec;
const est = await AdvantageEstimator.create(spec, { threads: 1 });
let state = isStateful(spec) ? est.initialState() : undefined;
const h: PolicyHandle = { vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
const games = (config.options as { games?: string[] }).games;
if (!games) throw new Error('games recipes only');

const trajs: Omit<Trajectory, 'trajectoryId'>[] = [];
for (let seed = 1; trajs.length < config.learner.batchSize; seed++) {
  const task = { game: games[0], seed };
  const eps = await recipe.rollout({ config, policy: h, rng: Math.random }, task, config.rollout.groupSize);
  trajs.push(...recipe.judge(task, eps, undefined, config.options, vocab, config).trajectories);
}
const batch = trajs.map((t, i) => ({ ...t, trajectoryId: String(i) })) as Trajectory[];
const T = Math.max(...batch.map((t) => t.sample.tokens.length));
const times: Record<string, number[]> = { estimator: [], reference: [], step: [], publish: [], total: [] };
for (let i = 0; i < repeats + 2; i++) {
  const t0 = performance.now();
  const r = await est.compute(estimatorBatch(spec, batch, new Map(segs.map((s, k) => [s, k]))), state);
  if (r.state) state = r.state;
  const t1 = performance.now();
  const plain = trainSamples(batch, r.advantages, r.keep);
  const samples = reference ? await reference.annotate(plain) : plain;
  const t2 = performance.now();
  await learner.step(samples);
  const t3 = performance.now();
  await policyWeights(policy);
  const t4 = performance.now();
  if (i < 2) continue;
  times.estimator!.push(t1 - t0);
  times.reference!.push(t2 - t1);
  times.step!.push(t3 - t2);
  times.publish!.push(t4 - t3);
  times.total!.push(t4 - t0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({
  config: process.argv[2], trajectories: batch.length, maxLength: T, vocab: vocab.size,
  ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, +median(v).toFixed(1)])),
}));
await reference?.close();
await est.close();
await policy.close();
