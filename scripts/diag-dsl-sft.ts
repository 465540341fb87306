// Diagnostic: can the policy network learn DSL deduction at all? Supervised training on
// generator tasks (program + input → the executed output), then the held-out evaluation.
//   npx tsx scripts/diag-dsl-sft.ts [steps] [config]     env: LR D L BS TYPE (deduction|abduction|induction)
import { readFileSync } from 'node:fs';
import { parseConfigText, parseExperiment } from '@spar/core';
import { BOS_ID, EOS_ID, Learner, Policy } from '@spar/policy';
import { builtinRecipes, modelConfigFor, vocabularyFor, type PolicyHandle } from '@spar/recipes';
import { createRng, DIFFICULTIES, generateTask, renderAnswer, renderSolverPrompt, type TaskType } from '@spar/recipes/dsl';

const reg = builtinRecipes();
const raw = parseConfigText(readFileSync(process.argv[3] ?? 'configs/rlvr-fixed.yaml', 'utf8')) as { policy: Record<string, unknown> };
if (process.env.D) raw.policy.dModel = Number(process.env.D);
if (process.env.L) raw.policy.layers = Number(process.env.L);
const config = parseExperiment(raw, reg);
const recipe = reg.get(config.recipe);
const vocab = vocabularyFor(recipe, config);
const policy = await Policy.create(modelConfigFor(config, vocab), { worker: false });
const learner = await Learner.create(policy, { kind: 'sft' }, { lr: Number(process.env.LR ?? 1e-3) });
const h: PolicyHandle = { vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
const type = (process.env.TYPE ?? 'deduction') as TaskType;
const rng = createRng(99);
const example = () => {
  const t = generateTask(rng, type, rng.pick(DIFFICULTIES));
  const prompt = [BOS_ID, ...renderSolverPrompt(t).map((s) => vocab.id(s))];
  const answer = [...renderAnswer(t).map((s) => vocab.id(s)), EOS_ID];
  return { tokens: [...prompt, ...answer], mask: [...prompt.map(() => 0), ...answer.map(() => 1)] };
};
const t0 = Date.now();
const suites = recipe.evalSuites(config.options).filter((s) => s.endsWith(type));
for (let step = 1; step <= Number(process.argv[2] ?? 1000); step++) {
  const m = await learner.step(Array.from({ length: Number(process.env.BS ?? 64) }, example));
  if (step % 250 === 0) {
    const ev = await recipe.evaluate(h, suites, { episodes: config.eval.episodes, seed: config.eval.seed }, config.options);
    const r = ev[suites[0]!]!;
    console.log(step, `${((Date.now() - t0) / 1000).toFixed(0)}s`, 'loss', m.loss.toFixed(3), 'held-out', r.accuracy!.toFixed(3), 'D1-3', [r.accuracyD1, r.accuracyD2, r.accuracyD3].map((x) => x!.toFixed(2)).join('/'));
  }
}
await policy.close();
