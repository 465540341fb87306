/**
 * Judge-side task checking for the DSL recipes. A task arrives as JSON in one of two forms and is
 * re-validated from scratch every time (nothing the sender claims is trusted):
 *
 *   draft form  { type, draft: string[] }                 a proposer's draft symbols (END allowed)
 *   wire form   { type, program: string, inputs, ... }     a validated task (outputs are ignored
 *                                                           and recomputed by running the program)
 *
 * Checks: parses (format), size limits (program ≤ maxProgramTokens, solver prompt ≤
 * maxPromptTokens, reference answer ≤ the answer budget), inputs in the input domain and distinct,
 * the program terminates within `fuel` on every input and two runs agree (dsl validateProposal),
 * induction carries solverShown + heldOut pairs. The result is the wire form (outputs filled in by
 * the judge) and its canonical key (dsl taskKey: type, program, inputs) for deduplication.
 */
import { BOS_ID, type Vocabulary } from '@spar/policy/schema';
import {
  DslError, MAX_DRAFT_INPUTS, MAX_DRAFT_TOKENS, MAX_PROGRAM_TOKENS, parseProgram, printProgram, programText, renderAnswer,
  renderSolverPrompt, taskHash, taskKey, tokenize, validateProposal,
  type Difficulty, type Draft, type Input, type ProposalVerdict, type Task, type TaskType, type Value,
} from '../dsl/index.ts';
import type { SolverOptions } from './options.ts';

/** A validated task as it travels between services (JSON). */
export interface WireTask {
  readonly type: TaskType;
  readonly program: string;
  readonly inputs: readonly Input[];
  readonly outputs: readonly Value[];
  readonly shown: number;
  /** Set on generator tasks (a label for metrics; never trusted for anything else). */
  readonly difficulty?: Difficulty;
}

/** What absolute-zero's propose() hands to validation. */
export interface DraftTask {
  readonly type: TaskType;
  readonly draft: readonly string[];
}

export type Checked =
  | { readonly ok: true; readonly task: Task; readonly wire: WireTask; readonly key: string; readonly hash: string }
  | { readonly ok: false; readonly reason: string };

const MAX_PROGRAM_CHARS = 512;
const MAX_SYMBOL_CHARS = 16;
const fail = (reason: string): Checked => ({ ok: false, reason });

export function toWire(t: Task): WireTask {
  return {
    type: t.type, program: programText(t.program), inputs: t.inputs.map((x) => [...x]), outputs: t.outputs.map((y) => (typeof y === 'number' ? y : [...y])),
    shown: t.shown, ...(t.difficulty ? { difficulty: t.difficulty } : {}),
  };
}

/** Answer budget (symbols, END excluded) of a task type under the options. */
export function answerBudget(type: TaskType, o: SolverOptions): number {
  return type === 'induction' ? Math.min(o.maxAnswerTokens, o.maxProgramTokens) : o.maxAnswerTokens;
}

/** `<bos>` + the solver prompt of a task, as token ids. */
export function solverPromptIds(vocab: Vocabulary, task: Task): number[] {
  return [BOS_ID, ...renderSolverPrompt(task).map((s) => vocab.id(s))];
}

/** Whether a task can be posed within the token budgets (prompt and reference answer fit). */
export function posable(task: Task, o: SolverOptions): string | undefined {
  const prompt = 1 + renderSolverPrompt(task).length;
  if (prompt > o.maxPromptTokens) return `size: solver prompt has ${prompt} tokens (limit ${o.maxPromptTokens})`;
  const answer = renderAnswer(task).length;
  const budget = answerBudget(task.type, o);
  if (answer > budget) return `size: reference answer has ${answer} tokens (budget ${budget})`;
  return undefined;
}

function verdictOf(type: TaskType, raw: Record<string, unknown>, o: SolverOptions): ProposalVerdict | string {
  if ('draft' in raw) {
    const d = raw.draft;
    if (!Array.isArray(d) || d.length > MAX_DRAFT_TOKENS + 1) return `size: draft must be an array of ≤ ${MAX_DRAFT_TOKENS + 1} symbols`;
    if (!d.every((s) => typeof s === 'string' && s.length <= MAX_SYMBOL_CHARS)) return 'format: draft symbols must be short strings';
    return validateProposal(type, d as string[], { fuel: o.fuel });
  }
  const { program, inputs } = raw;
  if (typeof program !== 'string' || program.length > MAX_PROGRAM_CHARS) return `format: program must be a string of ≤ ${MAX_PROGRAM_CHARS} characters`;
  if (!Array.isArray(inputs) || inputs.length > MAX_DRAFT_INPUTS) return `inputs: must be an array of ≤ ${MAX_DRAFT_INPUTS} inputs`;
  const tokens = tokenize(program);
  if (tokens.length > MAX_PROGRAM_TOKENS) return `size: program has ${tokens.length} tokens (limit ${MAX_PROGRAM_TOKENS})`;
  let draft: Draft;
  try { draft = { program: parseProgram(tokens), inputs: inputs as Input[] }; } catch (e) {
    if (e instanceof DslError) return `format: ${e.message}`;
    throw e;
  }
  return validateProposal(type, draft, { fuel: o.fuel });
}

/** Re-validate a task (either form) from scratch; see the module comment. Never throws on bad input. */
export function checkTask(raw: unknown, o: SolverOptions): Checked {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail('format: a task must be an object');
  const r = raw as Record<string, unknown>;
  const type = r.type as TaskType;
  if (!o.taskTypes.includes(type)) return fail(`format: task type ${JSON.stringify(r.type)?.slice(0, 40)} is not enabled`);
  let v: ProposalVerdict | string;
  try { v = verdictOf(type, r, o); } catch (e) {
    if (e instanceof DslError) return fail(`format: ${e.message}`);
    throw e;
  }
  if (typeof v === 'string') return fail(v);
  if (!v.ok) return fail(`${v.reason}: ${v.detail}`);
  const n = v.task.inputs.length;
  const progLen = printProgram(v.task.program).length;
  if (progLen > o.maxProgramTokens) return fail(`size: program has ${progLen} tokens (limit ${o.maxProgramTokens})`);
  if (type === 'induction' && n !== o.solverShown + o.heldOut) return fail(`inputs: induction needs ${o.solverShown + o.heldOut} inputs, got ${n}`);
  const difficulty = [1, 2, 3].includes(r.difficulty as number) ? (r.difficulty as Difficulty) : undefined;
  const task: Task = { ...v.task, shown: type === 'induction' ? o.solverShown : 1, ...(difficulty ? { difficulty } : {}) };
  const size = posable(task, o);
  if (size) return fail(size);
  return { ok: true, task, wire: toWire(task), key: taskKey(task), hash: taskHash(task) };
}

/** Draft-grammar input counts for a task type. */
export function draftInputs(type: TaskType, o: SolverOptions): number {
  return type === 'induction' ? o.solverShown + o.heldOut : 1;
}
