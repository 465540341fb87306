/**
 * The DSL recipes' held-out prompts: the solver prompt of every task of the evaluation's fixed
 * set (dsl heldOutSet of eval.seed, ⌈episodes / 3⌉ per type and difficulty), posable or not. By
 * prompt, not task key: two tasks can pose the same question (an abduction prompt shows the
 * output, not the input), and the question is what must never be trained on.
 */
import type { ExperimentConfig } from '@spar/core';
import { heldOutSet, renderSolverPrompt, type Task } from '../dsl/index.ts';
import { heldOutCache, type HeldOut } from '../held-out.ts';
import type { SolverOptions } from './options.ts';
import { checkTask } from './tasks.ts';

/** The key of a task's solver prompt. */
export const promptKey = (t: Task): string => renderSolverPrompt(t).join(' ');

const prompts = heldOutCache((key) => {
  const [seed, perCell] = key.split(':').map(Number) as [number, number];
  return new Set(heldOutSet(seed, perCell).map(promptKey));
});

/** The held-out prompt keys of an experiment's evaluation. */
export function dslHeldOutPrompts(config: Pick<ExperimentConfig, 'eval'>): ReadonlySet<string> {
  return prompts(`${config.eval.seed}:${Math.max(1, Math.ceil(config.eval.episodes / 3))}`);
}

/** Held-out check of a parsed task (the fast path of the recipes' own sources). */
export function dslTaskHeldOut(config: Pick<ExperimentConfig, 'eval'>, t: Task): boolean {
  return dslHeldOutPrompts(config).has(promptKey(t));
}

export function dslHeldOut(config: ExperimentConfig<SolverOptions>): HeldOut {
  const set = dslHeldOutPrompts(config);
  return {
    size: set.size,
    has(task) {
      const c = checkTask(task, config.options);
      return c.ok && set.has(promptKey(c.task));
    },
  };
}
