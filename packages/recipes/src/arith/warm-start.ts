import type { ExperimentConfig } from '@spar/core';
import { EOS_ID, type Vocabulary } from '@spar/policy/schema';
import { seededRng } from '../games/index.ts';
import type { WarmStartStream } from '../recipe.ts';
import type { OnExcluded } from '../held-out.ts';
import { EVAL_DIFFICULTIES, randomExpression } from './generator.ts';
import { arithHeldOutQuestions } from './held-out.ts';
import { answerBudget, questionBudget, solverPrompt, type RZeroOptions } from './task.ts';

const MAX_DRAWS = 1000;
const DEFAULT_CONTEXT = 64;

/**
 * Warm-start examples of r-zero: generated arithmetic questions (1..4 operators, as the held-out
 * suite) with their exact answers, as the solver sees them: <bos> <q> question <a> answer <eos>.
 * Questions of the held-out set (heldOutSet of eval.seed, eval.episodes; each one skipped is
 * reported as a 'warm_start' exclusion) and questions or answers beyond the budgets are skipped.
 */
export function arithWarmStart(config: ExperimentConfig<RZeroOptions>, vocab: Vocabulary, seed: number, excluded?: OnExcluded): WarmStartStream {
  const o = config.options;
  const context = config.policy.context ?? DEFAULT_CONTEXT;
  const heldOut = arithHeldOutQuestions(config);
  const rng = seededRng(seed >>> 0);
  return (count) => Array.from({ length: count }, () => {
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const q = randomExpression(rng, EVAL_DIFFICULTIES[Math.floor(rng() * EVAL_DIFFICULTIES.length)]!);
      if (heldOut.has(q.question)) { excluded?.('warm_start', 1); continue; }
      const qTokens = vocab.encode(q.question, { strict: true });
      if (qTokens.length > questionBudget(o, context)) continue;
      const prompt = solverPrompt(vocab, q.question);
      const answer = vocab.encode(q.answer, { strict: true });
      if (answer.length > answerBudget(o, context, prompt.length) || q.answer.replace('-', '').length > o.maxAnswerDigits) continue;
      const full = [...answer, EOS_ID];
      return { tokens: [...prompt, ...full], mask: [...prompt.map(() => 0), ...full.map(() => 1)] };
    }
    throw new Error(`warm start: no arithmetic question within the budgets in ${MAX_DRAWS} draws`);
  });
}
