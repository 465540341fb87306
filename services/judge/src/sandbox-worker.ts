import { builtinRecipes, HELD_OUT_REASON, vocabularyFor, type CopyKind, type HeldOut, type Recipe } from '@spar/recipes';
import { parseExperiment, type ExperimentConfig } from '@spar/core';
import type { Vocabulary } from '@spar/policy';

// Judge sandbox process: runs one recipe call at a time, messages over the IPC channel. The judge
// kills this process when a call overruns its time limit or its memory cap, so a pathological
// task can neither stall the judge nor take its memory.
//
// Decontamination (recipes' held-out.ts) is enforced here for every recipe with held-out prompts:
// 'validate' refuses a task that poses one (reason 'held_out: …', which the proposer counts and
// does not train), and 'judge' answers { heldOut: true } instead of judging such a group — a
// held-out task that got this far slipped past its source's own filter.
const recipes = builtinRecipes();
/** Per experiment config (as sent): parsed once, with its vocabulary and held-out set. */
const contexts = new Map<string, { config: ExperimentConfig; recipe: Recipe<unknown>; vocab: Vocabulary; heldOut?: HeldOut }>();
const MAX_CONTEXTS = 64;

function contextOf(raw: unknown) {
  const key = JSON.stringify(raw);
  let c = contexts.get(key);
  if (!c) {
    const config = parseExperiment(raw, recipes);
    const recipe = recipes.get(config.recipe);
    c = { config, recipe, vocab: vocabularyFor(recipe, config), heldOut: recipe.heldOut?.(config) };
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, c);
  }
  return c;
}

process.on('message', (msg: { id: number; method: 'judge' | 'validate'; config: unknown; args: unknown[] }) => {
  try {
    const { config, recipe, vocab, heldOut } = contextOf(msg.config);
    const result = msg.method === 'judge'
      ? (heldOut?.has(msg.args[0])
        ? { heldOut: true }
        : recipe.judge(msg.args[0], msg.args[1] as unknown[], msg.args[2] as never, config.options, vocab, config, msg.args[3] as CopyKind | undefined))
      : (msg.args as unknown[]).map((t) => {
        const v = recipe.validateTask(t, config.options);
        return v.valid && heldOut?.has(v.task ?? t) ? { valid: false, reason: `${HELD_OUT_REASON}: the task poses a prompt of the held-out evaluation set` } : v;
      });
    process.send!({ id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    process.send!({ id: msg.id, error: { name: e.name, message: e.message } });
  }
});
