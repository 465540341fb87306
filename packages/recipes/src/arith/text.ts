/**
 * r-zero in text mode: an imported chat model (warmStart.from: hf) proposes and answers in its
 * own tokens, through its chat template (TextCodec), without grammar masks. The formats follow
 * R-Zero's prompts: the challenger writes its question inside `<question>…</question>`, the
 * solver reasons and puts its final answer within `\boxed{…}`.
 *
 *   challenger  system CHALLENGER_SYSTEM, user challengerRequest(o)  → `<question>EXPR</question>`
 *   solver      system SOLVER_SYSTEM (R-Zero's, Qwen-Math's), user `Compute EXPR.` → `… \boxed{N}`
 *
 * Prompts are the chat template's rendering with the generation prompt (an assistant turn to
 * complete), encoded without further special tokens: apply_chat_template(tokenize=True). A reply
 * is read from its decoded text (special tokens left out) once it has ended with one of the
 * model's eos ids: the question is the first tagged one with all whitespace removed (the
 * arithmetic language has none), the answer the last `\boxed{…}` holding an integer in canonical
 * form (parseAnswer: optional `-`, no leading zeros, spaces around it allowed). Anything else is
 * malformed: a format failure, never an error.
 */
import type { ChatMessage, TextCodec } from '@spar/policy/schema';
import { parseAnswer } from './expr.ts';
import type { RZeroOptions } from './task.ts';

import { lastBoxed, REASON_AND_BOX, type PromptFit } from '../text-reply.ts';

export { BOXED, replyText } from '../text-reply.ts';

/** Reply budgets (eos included) when the options set none: textQuestionTokens, textAnswerTokens. */
export const TEXT_QUESTION_TOKENS = 64;
export const TEXT_ANSWER_TOKENS = 256;
export const questionTokens = (o: RZeroOptions): number => o.textQuestionTokens ?? TEXT_QUESTION_TOKENS;
export const answerTokens = (o: RZeroOptions): number => o.textAnswerTokens ?? TEXT_ANSWER_TOKENS;

export const QUESTION_OPEN = '<question>';
export const QUESTION_CLOSE = '</question>';

export const CHALLENGER_SYSTEM = 'You write arithmetic questions for a student. Reply with exactly one question inside <question></question> tags, and nothing else.';
/** R-Zero's solver system prompt. */
export const SOLVER_SYSTEM = REASON_AND_BOX;

/** The challenger's request, with the question space of the options. */
export function challengerRequest(o: RZeroOptions): string {
  const ops = o.maxOperators !== undefined ? `at most ${o.maxOperators} operator${o.maxOperators === 1 ? '' : 's'}` : 'one or more operators';
  const literals = o.maxLiteralDigits !== undefined ? ` of at most ${o.maxLiteralDigits} digit${o.maxLiteralDigits === 1 ? '' : 's'}` : '';
  return `Write one new integer arithmetic question: an expression over non-negative integers${literals} with the operators +, - and * and parentheses, `
    + `${ops}, at most ${o.maxQuestionTokens} characters, no variables and no words. For example: <question>(12+7)*3-5</question>`;
}

export function challengerMessages(o: RZeroOptions): ChatMessage[] {
  return [{ role: 'system', content: CHALLENGER_SYSTEM }, { role: 'user', content: challengerRequest(o) }];
}

export function solverMessages(question: string): ChatMessage[] {
  return [{ role: 'system', content: SOLVER_SYSTEM }, { role: 'user', content: `Compute ${question}.` }];
}

export function textChallengerPrompt(codec: TextCodec, o: RZeroOptions): number[] {
  return [...codec.encodeChat(challengerMessages(o))];
}

export function textSolverPrompt(codec: TextCodec, question: string): number[] {
  return [...codec.encodeChat(solverMessages(question))];
}

/** The question inside the first `<question>…</question>` with whitespace removed; undefined when there is none. */
export function parseTaggedQuestion(text: string): string | undefined {
  const start = text.indexOf(QUESTION_OPEN);
  if (start < 0) return undefined;
  const end = text.indexOf(QUESTION_CLOSE, start + QUESTION_OPEN.length);
  if (end < 0) return undefined;
  return text.slice(start + QUESTION_OPEN.length, end).replace(/\s+/g, '');
}

/** The canonical integer in the last `\boxed{…}` (at most `maxDigits` digits); undefined when malformed. */
export function parseBoxedAnswer(text: string, maxDigits: number): string | undefined {
  const boxed = lastBoxed(text);
  return boxed === undefined ? undefined : parseAnswer(boxed, maxDigits);
}

/**
 * Submit-time fits (Recipe.textPromptIssues): the challenger's prompt with textQuestionTokens, and
 * the solver's for a question of maxQuestionTokens characters (`9+9+…`, digits and operators
 * alternating, as many symbols as a question can have) with textAnswerTokens.
 */
export function arithPromptFits(o: RZeroOptions, codec: TextCodec): PromptFit[] {
  const longest = '9+'.repeat(o.maxQuestionTokens).slice(0, o.maxQuestionTokens).replace(/\+$/, '');
  return [
    { what: 'challenger', promptTokens: textChallengerPrompt(codec, o).length, replyTokens: questionTokens(o), budgetOption: 'options.textQuestionTokens' },
    { what: 'solver', promptTokens: textSolverPrompt(codec, longest).length, replyTokens: answerTokens(o), budgetOption: 'options.textAnswerTokens' },
  ];
}
