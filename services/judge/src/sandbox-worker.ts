import { parentPort } from 'node:worker_threads';
import { builtinRecipes, vocabularyFor } from '@spar/recipes';
import { parseExperiment } from '@spar/core';
import type { Vocabulary } from '@spar/policy';

// Judge sandbox worker: runs one recipe call at a time. The parent terminates this thread when a
// call overruns its time limit, so a pathological task cannot stall the judge.
const recipes = builtinRecipes();
const vocabs = new Map<string, Vocabulary>();

parentPort!.on('message', (msg: { id: number; method: 'judge' | 'validate'; config: unknown; args: unknown[] }) => {
  try {
    const config = parseExperiment(msg.config, recipes);
    const recipe = recipes.get(config.recipe);
    const key = JSON.stringify(config.options);
    let vocab = vocabs.get(key);
    if (!vocab) vocabs.set(key, (vocab = vocabularyFor(recipe, config)));
    const result = msg.method === 'judge'
      ? recipe.judge(msg.args[0], msg.args[1] as unknown[], msg.args[2] as never, config.options, vocab, config)
      : (msg.args as unknown[]).map((t) => recipe.validateTask(t, config.options));
    parentPort!.postMessage({ id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ id: msg.id, error: { name: e.name, message: e.message } });
  }
});
