import type { ExperimentConfig } from '@spar/core';
import { EOS_ID, type Vocabulary } from '@spar/policy/schema';
import { createRng, DIFFICULTIES, generateTask, heldOutSet, renderAnswer, type Task } from '../dsl/index.ts';
import type { WarmStartStream } from '../recipe.ts';
import type { SolverOptions } from './options.ts';
import { posable, solverPromptIds } from './tasks.ts';

/** Tries per example before the stream gives up (every draw too long or held out). */
const MAX_DRAWS = 1000;

/**
 * Warm-start examples of both DSL recipes: generator tasks of the experiment's task types and every
 * difficulty, each as the solver prompt followed by the executed reference answer and <eos>.
 * Tasks the held-out evaluation poses (same generator: heldOutSet of eval.seed) and tasks beyond
 * the token budgets are skipped.
 */
export function dslWarmStart(config: ExperimentConfig<SolverOptions>, vocab: Vocabulary, seed: number): WarmStartStream {
  const o = config.options;
  const perCell = Math.max(1, Math.ceil(config.eval.episodes / 3));
  // By prompt, not task key: two tasks can pose the same question (an abduction prompt shows the
  // output, not the input), and the question is what must never be seen in training.
  const promptKey = (t: Task) => solverPromptIds(vocab, t).join(',');
  const heldOut = new Set(heldOutSet(config.eval.seed, perCell).map(promptKey));
  const rng = createRng(seed >>> 0);
  return (count) => Array.from({ length: count }, () => {
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const t = generateTask(rng, rng.pick(o.taskTypes), rng.pick(DIFFICULTIES));
      if (posable(t, o) !== undefined) continue;
      const prompt = solverPromptIds(vocab, t);
      if (heldOut.has(prompt.join(','))) continue;
      const answer = [...renderAnswer(t).map((s) => vocab.id(s)), EOS_ID];
      return { tokens: [...prompt, ...answer], mask: [...prompt.map(() => 0), ...answer.map(() => 1)] };
    }
    throw new Error(`warm start: no posable, non-held-out DSL task in ${MAX_DRAWS} draws (token budgets too small?)`);
  });
}
