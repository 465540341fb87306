// The held-out evaluation of a config's untrained (freshly initialised) policy: the baseline the
// learning targets are measured from.   npx tsx scripts/eval-untrained.ts configs/kuhn.yaml
import { readFileSync } from 'node:fs';
import { parseConfigText, parseExperiment } from '@spar/core';
import { Policy } from '@spar/policy';
import { builtinRecipes, modelConfigFor, vocabularyFor, type PolicyHandle } from '@spar/recipes';

const reg = builtinRecipes();
const config = parseExperiment(parseConfigText(readFileSync(process.argv[2] ?? 'configs/tictactoe.yaml', 'utf8')), reg);
const recipe = reg.get(config.recipe);
const vocab = vocabularyFor(recipe, config);
const policy = await Policy.create(modelConfigFor(config, vocab), { worker: false });
const h: PolicyHandle = { vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
const suites = config.eval.suites ?? recipe.evalSuites(config.options);
console.log(JSON.stringify(await recipe.evaluate(h, suites, { episodes: config.eval.episodes, seed: config.eval.seed }, config.options)));
await policy.close();
