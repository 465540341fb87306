/**
 * The r-zero recipe: integer arithmetic questions (digits, + - *, parentheses) proposed by a
 * challenger, answered G times by the solver, judged by majority vote (R-Zero / TTRL).
 * Language: expr.ts. Limits and alphabet: symbols.ts. Masks: grammar.ts. Reward: judge.ts,
 * similarity.ts. Held-out suite: eval.ts, generator.ts.
 */
export { rZero, SEGMENTS as R_ZERO_SEGMENTS } from './recipe.ts';
export {
  RZeroOptionsSchema, answerBudget, challengerPrompt, checkQuestion, normaliseTask, questionBudget, referenceQuestions,
  solverPrompt, validateArithTask, type ArithTask, type CheckedQuestion, type RZeroOptions,
} from './task.ts';
export {
  bin, compareIntegers, evaluate, num, operatorCount, parenDepth, parseAnswer, parseExpr, printExpr, type Expr, type ParseLimits,
} from './expr.ts';
export {
  advance, allowedNext, answerState, grammarMask, isComplete, minToFinish, questionState,
  type GrammarState, type QuestionGrammarOptions,
} from './grammar.ts';
export { EVAL_DIFFICULTIES, heldOutSet, randomExpression, type GeneratedQuestion, type RandomSource } from './generator.ts';
export { CHALLENGER_GROUP, PROVENANCE, judgeArith, majorityVote, uncertaintyReward, type AnswerRecord, type Vote } from './judge.ts';
export { NEAR_DUPLICATE_BLEU, lexemes, repetition, sentenceBleu, type RepetitionResult } from './similarity.ts';
export { ARITH_SUITES, evaluateArith, evaluateArithmetic } from './eval.ts';
export {
  BOXED, CHALLENGER_SYSTEM, QUESTION_CLOSE, QUESTION_OPEN, SOLVER_SYSTEM, TEXT_ANSWER_TOKENS, TEXT_QUESTION_TOKENS, answerTokens, challengerMessages,
  challengerRequest, parseBoxedAnswer, parseTaggedQuestion, questionTokens, replyText, solverMessages, textChallengerPrompt, textSolverPrompt,
} from './text.ts';
export { ArithError, BudgetError, DisallowedSymbolError, type ArithErrorCode } from './errors.ts';
export { TaskRejected } from '../errors.ts';
export * from './symbols.ts';
