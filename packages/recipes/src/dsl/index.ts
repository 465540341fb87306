/**
 * Program DSL of the absolute-zero and rlvr-fixed recipes: a tiny typed pipeline language over one
 * int-list input, with parser, printer, fuel-bounded interpreter, grammar mask for constrained
 * decoding, Absolute Zero task validation/judging, prompt formats and a fixed task generator.
 * Grammar: symbols.ts. Limits: limits.ts. Semantics and fuel: interpreter.ts.
 */
export * from './ast.ts';
export * from './errors.ts';
export * from './limits.ts';
export {
  COMMA, DIGITS, DSL_SPECIALS, DSL_SYMBOLS, END, FN_OPS, LBRACK, LIST_TO_INT, LIST_TO_LIST, MARK, MINUS,
  NONZERO_DIGITS, PIPE, PRED_OPS, RBRACK, detokenize, isDslSymbol, tokenize,
} from './symbols.ts';
export { parseProgram, parseValue, type ValueKind } from './parser.ts';
export { checkValue, printProgram, printValue, programText, valueText } from './printer.ts';
export { applyFn, execute, run, testPred, valueSimilarity, valuesEqual, type RunOptions, type RunResult } from './interpreter.ts';
export {
  advance, advanceAll, allowedNext, initialState, isComplete, minToFinish,
  type GrammarKind, type GrammarOptions, type GrammarState,
} from './grammar-mask.ts';
export { createRng, type Rng } from './rng.ts';
export * from './task-types.ts';
export {
  isInput, judgeAnswer, taskHash, taskKey, validateProposal,
  type InvalidReason, type JudgeOptions, type Judgement, type ProposalVerdict, type ValidateOptions,
} from './tasks.ts';
export {
  answerKind, parseDraft, renderAnswer, renderDraft, renderProposerPrompt, renderReference, renderSolverPrompt,
  stripEnd, type DraftOptions,
} from './format.ts';
export {
  generateTask, heldOutSet, randomFn, randomInput, randomPred, randomProgram, randomStage, randomTask, stagesFor,
  type GenerateOptions,
} from './generator.ts';
