/**
 * The grammar masks r-zero decodes under, built in one place so the judge replays exactly the
 * masks the challenger and the solver used (same budgets from the options and policy.context).
 * Undefined when `options.constrain` is off.
 */
import type { LogitMask, Vocabulary } from '@spar/policy/schema';
import { answerState, grammarMask, questionState } from './grammar.ts';
import { answerBudget, questionBudget, type RZeroOptions } from './task.ts';

export const DEFAULT_CONTEXT = 64;

export function questionMask(vocab: Vocabulary, o: RZeroOptions, context: number): LogitMask | undefined {
  const budget = questionBudget(o, context);
  return o.constrain ? grammarMask(vocab, () => questionState({ maxTokens: budget, maxDepth: o.maxDepth, maxOperators: o.maxOperators, maxLiteralDigits: o.maxLiteralDigits, operators: o.operators })) : undefined;
}

export function answerMask(vocab: Vocabulary, o: RZeroOptions, context: number, promptLength: number): LogitMask | undefined {
  const budget = answerBudget(o, context, promptLength);
  return o.constrain ? grammarMask(vocab, () => answerState({ maxDigits: o.maxAnswerDigits, maxTokens: budget })) : undefined;
}
