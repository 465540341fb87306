// Diagnostic: the learner loop in one process (no services), for fast recipe tuning. Games
// (spiral-games) and generator-task recipes (rlvr-fixed); recipes whose proposals are policy
// samples need the services.
//   npx tsx scripts/diag-selfplay.ts configs/tictactoe.yaml [steps]
// env overrides: TEMP (rollout.temperature) LR ENT BS BASELINE G POS D L KL (loss.klCoef) REF (learner.referenceRefreshEvery) MB (minibatches per batch) EPOCHS (passes per batch) REWARD (options.rewardShaping)
// warm start: FROM=<checkpoint | checkpoints folder | export> loads weights; SFT=<steps> first runs the config's
// supervised warm start in-process (warmStart.batchSize / lr; SAVE=<dir> keeps its weights); EVAL_N (episodes, default 100), EVAL_EVERY (default 25)
import { parseExperiment, type Trajectory } from '@spar/core';
import { AdvantageEstimator, isStateful, Learner, Policy, readSourceWeights, savePolicy, type EstimatorSpec } from '@spar/policy';
import { builtinRecipes, modelConfigFor, vocabularyFor, type PolicyHandle } from '@spar/recipes';
import { readFileSync } from 'node:fs';
import { estimatorBatch, trainSamples } from '../services/learner/src/batch.ts';
import { ReferencePolicy } from '../services/learner/src/reference.ts';

import YAML from 'yaml';

const reg = builtinRecipes();
const raw = YAML.parse(readFileSync(process.argv[2] ?? 'configs/tictactoe.yaml', 'utf8'));
if (process.env.LR) raw.learner.optimizer.lr = Number(process.env.LR);
if (process.env.ENT) raw.learner.loss.entropyCoef = Number(process.env.ENT);
if (process.env.BS) raw.learner.batchSize = Number(process.env.BS);
if (process.env.BASELINE) raw.options.baseline = process.env.BASELINE;
if (process.env.G) raw.rollout.groupSize = Number(process.env.G);
if (process.env.POS) raw.policy.positions = process.env.POS;
if (process.env.D) raw.policy.dModel = Number(process.env.D);
if (process.env.L) raw.policy.layers = Number(process.env.L);
if (process.env.KL) raw.learner.loss.klCoef = Number(process.env.KL);
if (process.env.REF) raw.learner.referenceRefreshEvery = Number(process.env.REF);
if (process.env.REWARD) raw.options.rewardShaping = process.env.REWARD;
if (process.env.TEMP) raw.rollout.temperature = Number(process.env.TEMP);
const config = parseExperiment(raw, reg);
const recipe = reg.get(config.recipe);
const vocab = vocabularyFor(recipe, config);
const policy = await Policy.create(modelConfigFor(config, vocab), { worker: false });
const EVAL_N = Number(process.env.EVAL_N ?? 100);
const EVAL_EVERY = Number(process.env.EVAL_EVERY ?? 25);
const evalAll = () => recipe.evaluate({ vocab, version: policy.version, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) }, recipe.evalSuites(config.options), { episodes: EVAL_N, seed: config.eval.seed ?? 1 }, config.options);
const brief = (ev: Record<string, Record<string, number | undefined>>) => Object.entries(ev).map(([k, v]) => `${k} ${(v.accuracy ?? v.winRate ?? 0).toFixed(3)}`).join(' ');
if (process.env.FROM) {
  const src = await readSourceWeights(process.env.FROM);
  const st = await policy.state(false);
  await policy.setState({ params: src.params, step: 0, version: st.version + 1 });
  console.log('loaded', src.from, brief(await evalAll()));
}
if (process.env.SFT) {
  const ws = config.warmStart ?? { batchSize: 64, lr: 1e-3 };
  const stream = recipe.warmStartExamples!(config, vocab, (config.policy.seed ?? 0) + 1);
  const sft = await Learner.create(policy, { kind: 'sft' }, { ...config.learner.optimizer, lr: ws.lr });
  const s0 = Date.now();
  for (let i = 1; i <= Number(process.env.SFT); i++) await sft.step(stream(ws.batchSize));
  console.log('sft', process.env.SFT, `${((Date.now() - s0) / 1000).toFixed(0)}s`, brief(await evalAll()));
  if (process.env.SAVE) await savePolicy(policy, process.env.SAVE);
  const st = await policy.state(false);
  await policy.setState({ params: st.params, step: 0, version: st.version });
}
const learner = await Learner.create(policy, config.learner.loss, config.learner.optimizer);
const reference = config.learner.loss.klCoef > 0 ? await ReferencePolicy.create(policy.config, { worker: false }, undefined, policy) : undefined;
const segs = recipe.segments(config.options);
const spec = (isStateful(config.learner.estimator) ? { ...config.learner.estimator, numKeys: config.learner.estimator.numKeys ?? segs.length } : config.learner.estimator) as EstimatorSpec;
const est = await AdvantageEstimator.create(spec);
let state = isStateful(spec) ? est.initialState() : undefined;
const h: PolicyHandle = { vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
let seed = 1;
const games = (config.options as { games?: string[] }).games;
if (!games && recipe.proposesWithPolicy) throw new Error(`${recipe.name} proposes with the policy; run it through the services`);
/** The next task: a game episode seed, or a generator task validated as the judge would. */
async function nextTask(): Promise<unknown> {
  if (games) return { game: games[0], seed: seed++ };
  for (;;) {
    const [p] = await recipe.propose({ config, buffer: [], count: 1, rng: Math.random });
    const v = recipe.validateTask(p!.task, config.options);
    if (v.valid) return v.task ?? p!.task;
  }
}
const t0 = Date.now();
for (let it = 1; it <= Number(process.argv[3] ?? 300); it++) {
  const trajs: Omit<Trajectory, 'trajectoryId'>[] = [];
  while (trajs.length < config.learner.batchSize) {
    const task = await nextTask();
    const eps = await recipe.rollout({ config, policy: h, rng: Math.random }, task, config.rollout.groupSize);
    trajs.push(...recipe.judge(task, eps, undefined, config.options, vocab, config).trajectories);
  }
  // The learner service's own batch code: estimator inputs, kept samples.
  const batch = trajs.map((t, i) => ({ ...t, trajectoryId: String(i) })) as Trajectory[];
  const r = await est.compute(estimatorBatch(spec, batch, new Map(segs.map((s, i) => [s, i]))), state);
  if (r.state) state = r.state;
  const samples = trainSamples(batch, r.advantages, r.keep);
  if (samples.length === 0) continue;
  const MB = Number(process.env.MB ?? 1);
  let m!: Awaited<ReturnType<typeof learner.step>>;
  const train = reference ? await reference.annotate(samples) : samples;
  for (let epoch = 0; epoch < Number(process.env.EPOCHS ?? 1); epoch++) {
    for (let e = 0; e < MB; e++) m = await learner.step(train.filter((_, i) => i % MB === e));
  }
  if (reference && config.learner.referenceRefreshEvery > 0 && it % config.learner.referenceRefreshEvery === 0) await reference.refresh(policy);
  if (it % EVAL_EVERY === 0) {
    const illegal = games ? trajs.filter((t) => !t.correct).length / trajs.length : 1 - trajs.filter((t) => t.correct).length / trajs.length;
    const ev = await evalAll();
    const r0 = ev['tictactoe-vs-random'], m0 = ev['tictactoe-vs-minimax'];
    console.log(it, `${((Date.now() - t0) / 1000).toFixed(0)}s`, 'illegal', illegal.toFixed(3), 'ent', m.entropy.toFixed(3),
      r0 ? `random non-loss ${(1 - r0.lossRate!).toFixed(2)} minimax draws ${m0!.drawRate!.toFixed(2)}` : brief(ev), 'kl', m.kl.toFixed(4));
  }
}
await reference?.close();
await policy.close();
