import { parentPort } from 'node:worker_threads';
import { builtinRecipes, HELD_OUT_REASON, vocabularyFor, type CopyKind } from '@spar/recipes';
import { parseExperiment } from '@spar/core';
import type { Vocabulary } from '@spar/policy';

// Judge sandbox worker: runs one recipe call at a time. The parent terminates this thread when a
// call overruns its time limit, so a pathological task cannot stall the judge.
//
// Decontamination (recipes' held-out.ts) is enforced here for every recipe with held-out prompts:
// 'validate' refuses a task that poses one (reason 'held_out: …', which the proposer counts and
// does not train), and 'judge' answers { heldOut: true } instead of judging such a group — a
// held-out task that got this far slipped past its source's own filter.
const recipes = builtinRecipes();
const vocabs = new Map<string, Vocabulary>();

parentPort!.on('message', (msg: { id: number; method: 'judge' | 'validate'; config: unknown; args: unknown[] }) => {
  try {
    const config = parseExperiment(msg.config, recipes);
    const recipe = recipes.get(config.recipe);
    const key = JSON.stringify(config.options);
    let vocab = vocabs.get(key);
    if (!vocab) vocabs.set(key, (vocab = vocabularyFor(recipe, config)));
    const heldOut = recipe.heldOut?.(config);
    const result = msg.method === 'judge'
      ? (heldOut?.has(msg.args[0])
        ? { heldOut: true }
        : recipe.judge(msg.args[0], msg.args[1] as unknown[], msg.args[2] as never, config.options, vocab, config, msg.args[3] as CopyKind | undefined))
      : (msg.args as unknown[]).map((t) => {
        const v = recipe.validateTask(t, config.options);
        return v.valid && heldOut?.has(v.task ?? t) ? { valid: false, reason: `${HELD_OUT_REASON}: the task poses a prompt of the held-out evaluation set` } : v;
      });
    parentPort!.postMessage({ id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ id: msg.id, error: { name: e.name, message: e.message } });
  }
});
