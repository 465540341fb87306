/**
 * r-zero's held-out prompts: the questions of the 'arith' suite (heldOutSet of eval.seed and
 * eval.episodes), as written and in canonical form (a challenger's question is canonicalised by
 * validation, so both spellings must match).
 */
import type { ExperimentConfig } from '@spar/core';
import { heldOutCache, type HeldOut } from '../held-out.ts';
import { ArithError } from './errors.ts';
import { parseExpr, printExpr } from './expr.ts';
import { heldOutSet } from './generator.ts';
import { normaliseTask, type RZeroOptions } from './task.ts';

const questions = heldOutCache((key) => {
  const [seed, episodes] = key.split(':').map(Number) as [number, number];
  const out = new Set<string>();
  for (const q of heldOutSet(seed, episodes)) {
    out.add(q.question);
    out.add(printExpr(parseExpr(q.question, { maxTokens: 1 << 10, maxDepth: 64 })));
  }
  return out;
});

export function arithHeldOutQuestions(config: Pick<ExperimentConfig, 'eval'>): ReadonlySet<string> {
  return questions(`${config.eval.seed}:${config.eval.episodes}`);
}

export function arithHeldOut(config: ExperimentConfig<RZeroOptions>): HeldOut {
  const set = arithHeldOutQuestions(config);
  return {
    size: set.size,
    has(task) {
      try {
        return set.has(normaliseTask(task, config.options).task.question);
      } catch (err) {
        if (err instanceof ArithError) return false;
        throw err;
      }
    },
  };
}
