/**
 * The program-DSL recipes: absolute-zero (the policy proposes and solves, learnability reward,
 * TRR++) and rlvr-fixed (its control group: a fixed uniform task generator, GRPO).
 */
export { absoluteZero } from './absolute-zero.ts';
export { rlvrFixed } from './rlvr-fixed.ts';
export { AzrOptionsSchema, RlvrOptionsSchema, type AzrOptions, type RlvrOptions, type SolverOptions } from './options.ts';
export { AzrBudgetError } from './errors.ts';
export { TaskRejected } from '../errors.ts';
export { checkTask, solverPromptIds, toWire, type DraftTask, type WireTask } from './tasks.ts';
export { learnability, proposerReward, judgeInvalidProposal } from './propose.ts';
export { solverReward, type AnswerRecord } from './solve.ts';
export { DSL_SUITES } from './eval.ts';
export {
  AZR_SYSTEM, DSL_GUIDE, lexDsl, parseTaggedAnswer, parseTaggedDraft, proposerMessages, readTextPrompt, solverMessages, textSolverPrompt, valueDisplay,
} from './text.ts';
export { textPlan } from './propose.ts';
