/**
 * r-zero options, task shape, judge-side task validation and the prompt formats.
 *
 *   challenger prompt   <bos> <challenge>                 → question <eos>
 *   solver prompt       <bos> <q> question <a>            → answer <eos>
 *
 * A proposed task is `{ question, references }` (the challenger's text and the recent questions
 * it is compared with for the repetition penalty). validateTask returns the normalised task:
 * canonical question, canonical references, and the true answer computed by the judge — carried
 * for measurement (label noise) only, never used for reward.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Validity } from '@spar/core';
import { BOS_ID, type Vocabulary } from '@spar/policy/schema';
import { ArithError } from './errors.ts';
import { evaluate, operatorCount, parseExpr, printExpr } from './expr.ts';
import { MARK, MASK_LITERAL_DIGITS, OPERATORS, MAX_ANSWER_DIGITS, MAX_DEPTH, MAX_QUESTION_TOKENS, MAX_REFERENCES } from './symbols.ts';

export const RZeroOptionsSchema = Type.Object({
  maxQuestionTokens: Type.Integer({ minimum: 3, maximum: MAX_QUESTION_TOKENS, default: 24, description: 'longest question (symbols, <eos> excluded)' }),
  maxDepth: Type.Integer({ minimum: 0, maximum: MAX_DEPTH, default: 4, description: 'deepest parenthesis nesting in a question' }),
  maxAnswerDigits: Type.Integer({ minimum: 1, maximum: MAX_ANSWER_DIGITS, default: 10, description: 'longest answer (digits); questions whose value needs more are invalid' }),
  maxOperators: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_QUESTION_TOKENS, description: 'most binary operators in a question (default: as many as fit); restricts the challenger to sizes where the majority vote is mostly right (docs/recipes.md#is-the-majority-right-benchmajority-2026-12-04)' })),
  maxLiteralDigits: Type.Optional(Type.Integer({ minimum: 1, maximum: MASK_LITERAL_DIGITS, description: `longest literal in a question, in digits (default: ${MASK_LITERAL_DIGITS} under the grammar mask, any without it)` })),
  operators: Type.Optional(Type.Array(Type.Union(OPERATORS.map((op) => Type.Literal(op))), { minItems: 1, maxItems: 3, uniqueItems: true, description: 'the binary operators a question may use (default all: + - *)' })),
  repetitionPenalty: Type.Number({ minimum: 0, maximum: 10, default: 1, description: 'weight of the near-duplicate share subtracted from the challenger reward' }),
  constrain: Type.Boolean({ default: true, description: 'grammar-mask decoding of questions and answers (format failures still score 0)' }),
  informativeMin: Type.Number({
    minimum: 0, maximum: 1, default: 0.3,
    description: "R-Zero's informative-question filter, lower end: the solver trains only on questions whose majority fraction p̂ is in [informativeMin, informativeMax] (R-Zero keeps 0.3–0.8); 0 and 1 keep every question. The challenger is trained on every question",
  }),
  informativeMax: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'upper end of the informative band (see informativeMin)' }),
  // Optional without a schema default, so that a from-scratch config stores exactly the options it always did.
  textQuestionTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: "text mode (warmStart.from: hf): the challenger's reply budget in the model's tokens, eos included (default 64)" })),
  textAnswerTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: "text mode (warmStart.from: hf): the solver's reply budget (reasoning and \\boxed{answer}) in the model's tokens, eos included (default 256)" })),
}, { additionalProperties: false });
export type RZeroOptions = Static<typeof RZeroOptionsSchema>;

/** A task as proposed (question as written) or as validated (canonical, with trueAnswer). */
export interface ArithTask {
  readonly question: string;
  /** Recent questions the repetition penalty compares with (canonical after validation). */
  readonly references: readonly string[];
  /** The judge's exact value of the question: measurement only (label noise), never reward. */
  readonly trueAnswer?: string;
}

export interface CheckedQuestion {
  readonly canonical: string;
  readonly value: number;
  readonly operators: number;
}

/** Parse, bound and size-check a question under the experiment's limits; throws ArithError. */
export function checkQuestion(text: unknown, o: RZeroOptions): CheckedQuestion {
  if (typeof text !== 'string') throw new ArithError('bad_task', `question must be a string, got ${typeof text}`);
  const expr = parseExpr(text, { maxTokens: o.maxQuestionTokens, maxDepth: o.maxDepth });
  const operators = operatorCount(expr);
  if (operators === 0) throw new ArithError('no_operator', `${JSON.stringify(text)} is a bare number, not a question`);
  if (o.maxOperators !== undefined && operators > o.maxOperators) throw new ArithError('too_many_operators', `${operators} operators (limit ${o.maxOperators})`);
  const banned = o.operators && [...text].find((c) => (OPERATORS as readonly string[]).includes(c) && !o.operators!.includes(c as never));
  if (banned) throw new ArithError('operator_not_allowed', `'${banned}' is not among the allowed operators (${o.operators!.join(' ')})`);
  if (o.maxLiteralDigits !== undefined && literalDigits(text) > o.maxLiteralDigits) throw new ArithError('literal_too_long', `a literal of ${literalDigits(text)} digits (limit ${o.maxLiteralDigits})`);
  const value = evaluate(expr);
  const digits = String(Math.abs(value)).length;
  if (digits > o.maxAnswerDigits) throw new ArithError('answer_too_long', `the value has ${digits} digits (limit ${o.maxAnswerDigits})`);
  return { canonical: printExpr(expr), value, operators };
}

/** Digits of the longest literal in a question's text. */
function literalDigits(text: string): number {
  return Math.max(0, ...(text.match(/[0-9]+/g) ?? []).map((d) => d.length));
}

/** Canonical references; a malformed list makes the task invalid ('bad_references'). */
function checkReferences(refs: unknown, o: RZeroOptions): string[] {
  if (refs === undefined) return [];
  if (!Array.isArray(refs) || refs.length > MAX_REFERENCES) throw new ArithError('bad_references', `references must be an array of at most ${MAX_REFERENCES} questions`);
  return refs.map((r, i) => {
    try {
      return checkQuestion(r, o).canonical;
    } catch (err) {
      if (err instanceof ArithError) throw new ArithError('bad_references', `reference ${i}: ${err.message}`);
      throw err;
    }
  });
}

/** The normalised task (see the module comment); throws ArithError. */
export function normaliseTask(task: unknown, o: RZeroOptions): { task: Required<ArithTask>; checked: CheckedQuestion } {
  if (!task || typeof task !== 'object' || Array.isArray(task)) throw new ArithError('bad_task', 'task must be an object { question, references }');
  const t = task as Partial<ArithTask>;
  const checked = checkQuestion(t.question, o);
  const references = checkReferences(t.references, o);
  return { task: { question: checked.canonical, references, trueAnswer: String(checked.value) }, checked };
}

export function validateArithTask(task: unknown, o: RZeroOptions): Validity {
  try {
    const { task: t } = normaliseTask(task, o);
    return { valid: true, canonical: t.question, task: t };
  } catch (err) {
    if (err instanceof ArithError) return { valid: false, reason: err.message };
    throw err;
  }
}

/** Question texts of the proposer's references (earlier validated tasks), newest first, at most MAX_REFERENCES. */
export function referenceQuestions(refs: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const r of refs) {
    const q = (r as Partial<ArithTask> | null)?.question;
    if (typeof q === 'string' && q.length <= MAX_QUESTION_TOKENS) out.push(q);
    if (out.length === MAX_REFERENCES) break;
  }
  return out;
}

export function challengerPrompt(vocab: Vocabulary): number[] {
  return [BOS_ID, vocab.id(MARK.challenge)];
}

export function solverPrompt(vocab: Vocabulary, question: string): number[] {
  return [BOS_ID, vocab.id(MARK.question), ...vocab.encode(question, { strict: true }), vocab.id(MARK.answer)];
}

/**
 * Question budget that leaves room for the whole solver turn in the context:
 * <bos> <q> question <a> answer(sign + maxAnswerDigits) <eos>.
 */
export function questionBudget(o: RZeroOptions, context: number): number {
  return Math.min(o.maxQuestionTokens, context - 5 - o.maxAnswerDigits);
}

/** Answer symbols (END excluded) a solver may write after a prompt of `promptLength`. */
export function answerBudget(o: RZeroOptions, context: number, promptLength: number): number {
  return Math.min(o.maxAnswerDigits + 1, context - promptLength - 1);
}
