/**
 * absolute-zero and rlvr-fixed in text mode: an imported chat model (warmStart.from: hf) proposes
 * and solves DSL tasks in its own tokens, through its chat template (TextCodec), without grammar
 * masks. The formats follow Absolute Zero's prompts: its R1-style system prompt (reasoning in
 * `<think>…</think>`, the answer in `<answer>…</answer>`), the task as text, and tags around what
 * is read back:
 *
 *   proposer  user  DSL_GUIDE, the task type, K reference tasks (`<program>`, `<input>`, `<output>`
 *                   each), [induction: the given program]  →  `<program>P</program><input>X</input>…`
 *   solver    user  DSL_GUIDE, the task (program / input / output / pairs as text)
 *                                                          →  `… <answer>A</answer>`
 *
 * DSL text: programs as their canonical text (`map * 2 | filter gt 5 | sum`), values as written
 * (`72`, `-12`, `[3, 1, 4]`). Text is read back into DSL symbols by `lexDsl` (a lowercase word, one
 * digit, or one other non-space character per symbol), so `[3,1, 4]` and `72` read as the symbol
 * mode's `[ 3 , 1 , 4 ]` and `7 2`; a marker can never be forged (`<in>` lexes as `<`, `in`, `>`).
 *
 * Reading a reply (decoded with special tokens left out): the solver's answer is the LAST
 * `<answer>…</answer>` of a reply that ended with one of the model's eos ids; anything else is a
 * format failure (the symbol mode's −1 under 'azr' shaping, formatOk false). The proposer's draft
 * is the last `<program>…</program>` (AZR-style induction: the program the prompt gives) and every
 * `<input>…</input>` after it, lexed and joined with `<in>` into the symbol mode's draft form, so
 * validation is the symbol mode's (checkTask); a reply without them is an empty draft: an invalid
 * proposal with a format reason (AZR's −1, formatOk false), never an error.
 */
import type { ExperimentConfig, Sample } from '@spar/core';
import type { ChatMessage, TextCodec } from '@spar/policy/schema';
import { heldOutSet, MARK, programText, type Program, type Task, type TaskType, type Value } from '../dsl/index.ts';
import { TaskRejected } from '../errors.ts';
import type { AzrOptions, SolverOptions } from './options.ts';
import { draftInputs } from './tasks.ts';

import type { PromptFit } from '../text-reply.ts';

export { replyText, textResponse } from '../text-reply.ts';

/** Reply budgets (eos included) when the options set none: textProposeTokens, textAnswerTokens. */
export const TEXT_PROPOSE_TOKENS = 256;
export const TEXT_ANSWER_TOKENS = 256;
/** The context the proposer's references are fitted to when policy.context is unset (the imported default for models of ≥ 1024 positions). */
export const TEXT_CONTEXT = 1024;
export const proposeTokens = (o: Partial<Pick<AzrOptions, 'textProposeTokens'>>): number => o.textProposeTokens ?? TEXT_PROPOSE_TOKENS;
export const answerTokens = (o: Pick<SolverOptions, 'textAnswerTokens'>): number => o.textAnswerTokens ?? TEXT_ANSWER_TOKENS;

/** Absolute Zero's (DeepSeek-R1's) system prompt. */
export const AZR_SYSTEM = 'A conversation between User and Assistant. The User asks a question, and the Assistant solves it. '
  + 'The Assistant first thinks about the reasoning process in the mind and then provides the User with the answer. '
  + 'The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, '
  + 'i.e., <think> reasoning process here </think> <answer> answer here </answer>.';

/** What the model is told about the DSL (it has never seen it). */
export const DSL_GUIDE = 'Programs are pipelines over one input x, a list of 0 to 8 digits; stages are separated by | and each applies to the previous result. '
  + 'List stages: map F, filter P, reverse, sort, take K, drop K. List to integer: sum, len, max, min, head, last. Integer stages: F. '
  + 'F is one of + K, - K, * K, / K, % K; P is one of gt K, lt K, eq K, even, odd; K is one digit. '
  + 'Example: map * 2 | filter gt 5 | sum | % 7 on [3, 1, 4] gives 14 % 7 = 0.';

const TYPE_LINE = /Task type: (deduction|abduction|induction)\b/;
const GIVEN_OPEN = 'Given program: <program>';

/** A value as a model reads it: `72`, `-12`, `[3, 1, 4]`. */
export function valueDisplay(v: Value): string {
  return typeof v === 'number' ? String(v) : `[${v.join(', ')}]`;
}

/** Text to DSL symbols: a lowercase word, one digit, or one other non-space character each. */
export function lexDsl(text: string): string[] {
  return text.match(/[a-z]+|[0-9]|\S/g) ?? [];
}

/** Contents of every `<tag>…</tag>` in order (an unclosed last one is left out). */
export function tagged(text: string, tag: string): { body: string; start: number; end: number }[] {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  const out: { body: string; start: number; end: number }[] = [];
  for (let at = text.indexOf(open); at >= 0; at = text.indexOf(open, at + open.length)) {
    const end = text.indexOf(close, at + open.length);
    if (end < 0) break;
    out.push({ body: text.slice(at + open.length, end), start: at, end: end + close.length });
    at = end;
  }
  return out;
}

/** The content of the last `<answer>…</answer>`, lexed; undefined when there is none. */
export function parseTaggedAnswer(text: string): string[] | undefined {
  const a = tagged(text, 'answer').at(-1);
  return a ? lexDsl(a.body) : undefined;
}

/**
 * A proposer reply as the symbol mode's draft: program symbols (the given ones for AZR-style
 * induction), then `<in>` and each input's symbols. [] (a format failure) without a program or an input.
 */
export function parseTaggedDraft(text: string, given?: string): string[] {
  let program: string;
  let rest = text;
  if (given !== undefined) program = given;
  else {
    const p = tagged(text, 'program').at(-1);
    if (!p) return [];
    program = p.body;
    rest = text.slice(p.end);
  }
  const inputs = tagged(rest, 'input');
  if (inputs.length === 0) return [];
  return [...lexDsl(program), ...inputs.flatMap((x) => [MARK.in, ...lexDsl(x.body)])];
}

function pairs(task: Task, n: number): string {
  return Array.from({ length: n }, (_, i) => `<input>${valueDisplay(task.inputs[i] ?? [])}</input> <output>${valueDisplay(task.outputs[i] ?? 0)}</output>`).join('\n');
}

/** The solver's request for a task (AZR's: the task, then where the answer goes). */
export function solverRequest(task: Task): string {
  const p = programText(task.program);
  switch (task.type) {
    case 'deduction':
      return `${DSL_GUIDE}\n\nGive the output of the program on the input.\nProgram: ${p}\nInput: ${valueDisplay(task.inputs[0] ?? [])}\n`
        + 'Put the output value (an integer or a list of integers) inside <answer></answer>, e.g. <answer>[3, 1]</answer> or <answer>12</answer>.';
    case 'abduction':
      return `${DSL_GUIDE}\n\nGive an input on which the program produces the output.\nProgram: ${p}\nOutput: ${valueDisplay(task.outputs[0] ?? 0)}\n`
        + 'Put the input (a list of 0 to 8 digits) inside <answer></answer>, e.g. <answer>[4, 0, 7]</answer>.';
    case 'induction':
      return `${DSL_GUIDE}\n\nGive a program that maps each input to its output (it is also checked on further inputs).\n${pairs(task, task.shown)}\n`
        + 'Put the program inside <answer></answer>, e.g. <answer>sort | take 3</answer>.';
  }
}

export function solverMessages(task: Task): ChatMessage[] {
  return [{ role: 'system', content: AZR_SYSTEM }, { role: 'user', content: solverRequest(task) }];
}

export function textSolverPrompt(codec: TextCodec, task: Task): number[] {
  return [...codec.encodeChat(solverMessages(task))];
}

const WHAT: Record<TaskType, string> = {
  deduction: 'Write a new program and one input for it. A solver will be shown the program and the input and asked for the output.',
  abduction: 'Write a new program and one input for it. A solver will be shown the program and its output and asked for an input that produces it.',
  induction: 'Write a new program and its inputs. A solver will be shown some of the input-output pairs and asked for the program; it is also checked on the others.',
};

/**
 * The proposer's request: the task type, the references (program, inputs, outputs), and what to
 * write — AZR-style induction (`given`) writes only the inputs of the given program.
 */
export function proposerRequest(type: TaskType, refs: readonly Task[], o: SolverOptions, given?: Program): string {
  const n = draftInputs(type, o);
  const inputs = n === 1 ? 'one input (a list of 0 to 8 digits) inside <input></input>' : `${n} distinct inputs (lists of 0 to 8 digits), each inside its own <input></input>`;
  const refText = refs.map((r, i) => `Reference ${i + 1}:\n<program>${programText(r.program)}</program>\n${pairs(r, r.inputs.length)}`).join('\n\n');
  const head = `${DSL_GUIDE}\n\nTask type: ${type}. `;
  const references = refs.length ? `\n\nReference tasks:\n\n${refText}` : '';
  if (given) {
    return `${head}Write ${n} distinct inputs for the given program. A solver will be shown some of the input-output pairs and asked for the program; it is also checked on the others. `
      + `Choose inputs that pin the program down.${references}\n\n${GIVEN_OPEN}${programText(given)}</program>\nReply with ${inputs}.`;
  }
  return `${head}${WHAT[type]} The program must differ from the references, run on its inputs, and have at most ${o.maxProgramTokens} symbols.${references}\n\n`
    + `Reply with the program inside <program></program>, then ${inputs}.`;
}

export function proposerMessages(type: TaskType, refs: readonly Task[], o: SolverOptions, given?: Program): ChatMessage[] {
  return [{ role: 'system', content: AZR_SYSTEM }, { role: 'user', content: proposerRequest(type, refs, o, given) }];
}

/** What a proposer prompt asks for, read from its decoded text (judge side): the task type and the given program, if any. */
export function readTextPrompt(codec: TextCodec, proposal: Sample): { type: TaskType; given?: string } {
  const text = codec.decode(proposal.tokens.slice(0, proposal.promptLength));
  const type = TYPE_LINE.exec(text)?.[1] as TaskType | undefined;
  if (!type || !text.includes(AZR_SYSTEM)) throw new TaskRejected('proposal: prompt is not a proposer prompt');
  const at = text.lastIndexOf(GIVEN_OPEN);
  if (at < 0) return { type };
  const end = text.indexOf('</program>', at);
  if (end < 0 || type !== 'induction') throw new TaskRejected(`proposal: a ${type} prompt gives no program`);
  return { type, given: text.slice(at + GIVEN_OPEN.length, end) };
}

/**
 * Submit-time fits (Recipe.textPromptIssues): the longest solver prompt over the held-out
 * evaluation's tasks of `taskTypes` with textAnswerTokens, and with `proposer`, each type's
 * proposer prompt before references (the fewest it can have) with textProposeTokens.
 */
export function dslPromptFits(config: ExperimentConfig<SolverOptions & Partial<Pick<AzrOptions, 'textProposeTokens'>>>, codec: TextCodec, proposer: boolean): PromptFit[] {
  const o = config.options;
  const types = new Set(o.taskTypes);
  const tasks = heldOutSet(config.eval.seed, Math.max(1, Math.ceil(config.eval.episodes / 3))).filter((t) => types.has(t.type));
  const fits: PromptFit[] = [{
    what: 'solver', promptTokens: Math.max(0, ...tasks.map((t) => textSolverPrompt(codec, t).length)), replyTokens: answerTokens(o), budgetOption: 'options.textAnswerTokens',
  }];
  if (proposer) {
    fits.push({
      what: 'proposer (before references)', budgetOption: 'options.textProposeTokens', replyTokens: proposeTokens(o),
      promptTokens: Math.max(...o.taskTypes.map((type) => codec.encodeChat(proposerMessages(type, [], o)).length)),
    });
  }
  return fits;
}
