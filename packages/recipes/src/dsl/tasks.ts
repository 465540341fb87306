/**
 * Absolute Zero validity, judging and hashing of tasks.
 *
 * validateProposal: a draft is valid when it parses (format), is within the size limits, every
 * input lies in the input domain, the program terminates within fuel without overflow on every
 * input, two runs give the same output (determinism, checked as AZR does even though the
 * interpreter is deterministic by construction), and the task's hash is not in `seen`.
 *
 * judgeAnswer separates format failures (the answer does not parse as the kind the task asks
 * for) from wrong answers (parses, but is not correct; a runtime error counts as wrong).
 */
import { createHash } from 'node:crypto';
import { checkProgram, type Value } from './ast.ts';
import { DslError } from './errors.ts';
import { parseDraft, stripEnd } from './format.ts';
import { run, valueSimilarity, valuesEqual } from './interpreter.ts';
import { INPUT_MAX_ELEM, INPUT_MAX_LEN, MAX_DRAFT_INPUTS } from './limits.ts';
import { parseProgram, parseValue } from './parser.ts';
import { printProgram, printValue } from './printer.ts';
import { MARK, tokenize } from './symbols.ts';
import { INDUCTION_MIN_INPUTS, type Draft, type Input, type Task, type TaskType } from './task-types.ts';

/** True when `x` is in the input domain: 0..8 ints, each 0..9. */
export function isInput(x: unknown): x is Input {
  return Array.isArray(x) && x.length <= INPUT_MAX_LEN
    && x.every((e) => Number.isInteger(e) && e >= 0 && e <= INPUT_MAX_ELEM);
}

/** Canonical text identifying a task: type, program and inputs (outputs follow from them). */
export function taskKey(t: Pick<Task, 'type' | 'program' | 'inputs'>): string {
  const parts = [t.type, MARK.prog, ...printProgram(t.program)];
  for (const x of t.inputs) parts.push(MARK.in, ...printValue(x));
  return parts.join(' ');
}

/** Hex sha256 of taskKey: the duplicate-detection hash. */
export function taskHash(t: Pick<Task, 'type' | 'program' | 'inputs'>): string {
  return createHash('sha256').update(taskKey(t), 'utf8').digest('hex');
}

export type InvalidReason = 'format' | 'size' | 'inputs' | 'runtime' | 'nondeterministic' | 'duplicate';

export type ProposalVerdict =
  | { readonly ok: true; readonly task: Task; readonly hash: string }
  | { readonly ok: false; readonly reason: InvalidReason; readonly detail: string; readonly code?: string };

export interface ValidateOptions {
  /** Hashes of tasks already accepted (a Set works); a draft whose hash is present is a duplicate. */
  readonly seen?: { has(hash: string): boolean };
  readonly fuel?: number;
  /** Induction: pairs shown to the solver (default ceil(n/2)); the rest are held out. */
  readonly shown?: number;
}

const bad = (reason: InvalidReason, detail: string, code?: string): ProposalVerdict => ({ ok: false, reason, detail, code });

function inputRange(type: TaskType): [number, number] {
  return type === 'induction' ? [INDUCTION_MIN_INPUTS, MAX_DRAFT_INPUTS] : [1, 1];
}

/** Validate a proposer's draft (tokens or an already parsed Draft) for a task type. */
export function validateProposal(type: TaskType, draft: Draft | readonly string[], opts: ValidateOptions = {}): ProposalVerdict {
  const [minInputs, maxInputs] = inputRange(type);
  let d: Draft;
  if (Array.isArray(draft)) {
    try { d = parseDraft(draft as readonly string[], { minInputs, maxInputs }); } catch (e) {
      if (e instanceof DslError) return bad('format', e.message, e.code);
      throw e;
    }
  } else {
    d = draft as Draft;
    try { checkProgram(d.program); } catch (e) {
      if (e instanceof DslError) return bad('size', e.message, e.code);
      throw e;
    }
    if (!Array.isArray(d.inputs) || d.inputs.length < minInputs || d.inputs.length > maxInputs) {
      return bad('inputs', `${type} needs ${minInputs}..${maxInputs} inputs`);
    }
  }
  const bads = d.inputs.findIndex((x) => !isInput(x));
  if (bads >= 0) return bad('inputs', `input ${bads} is outside the input domain`);
  const keys = new Set(d.inputs.map((x) => printValue(x).join(' ')));
  if (keys.size !== d.inputs.length) return bad('inputs', 'inputs must be distinct');
  const outputs: Value[] = [];
  for (const x of d.inputs) {
    const a = run(d.program, x, { fuel: opts.fuel });
    if (!a.ok) return bad('runtime', a.error.message, a.error.code);
    const b = run(d.program, x, { fuel: opts.fuel });
    if (!b.ok || !valuesEqual(a.value, b.value)) return bad('nondeterministic', 'two runs disagree');
    outputs.push(a.value);
  }
  const n = d.inputs.length;
  const shown = type === 'induction' ? Math.min(Math.max(opts.shown ?? Math.ceil(n / 2), 1), n) : 1;
  const task: Task = { type, program: d.program, inputs: d.inputs.map((x) => [...x]), outputs, shown };
  const hash = taskHash(task);
  if (opts.seen?.has(hash)) return bad('duplicate', `task ${hash.slice(0, 12)} was seen before`);
  return { ok: true, task, hash };
}

export interface Judgement {
  /** The answer parses as the kind the task asks for (value / input / program). */
  readonly formatOk: boolean;
  /** Exact match (deduction), the program maps the answer to the output (abduction), or the
   *  program reproduces every pair, held-out ones included (induction). */
  readonly correct: boolean;
  /**
   * For a well-formed answer: how close the output it implies is to the expected one, in [0, 1]
   * (valueSimilarity; induction: the mean over every pair). 1 when correct.
   */
  readonly similarity?: number;
  readonly reason?: string;
}

export interface JudgeOptions { readonly fuel?: number }

/** Judge a solver's answer (tokens, or text split on whitespace; one trailing END is allowed). */
export function judgeAnswer(task: Task, answer: readonly string[] | string, opts: JudgeOptions = {}): Judgement {
  let tokens: readonly string[];
  try {
    tokens = stripEnd(typeof answer === 'string' ? tokenize(answer) : answer);
    switch (task.type) {
      case 'deduction': {
        const y = parseValue(tokens, 'value');
        const expected = task.outputs[0];
        return expected !== undefined && valuesEqual(y, expected)
          ? { formatOk: true, correct: true, similarity: 1 }
          : { formatOk: true, correct: false, similarity: expected === undefined ? 0 : valueSimilarity(y, expected), reason: 'wrong output' };
      }
      case 'abduction': {
        const x = parseValue(tokens, 'input') as readonly number[];
        const r = run(task.program, x, opts);
        if (!r.ok) return { formatOk: true, correct: false, similarity: 0, reason: `program fails on the answer: ${r.error.code}` };
        const expected = task.outputs[0];
        return expected !== undefined && valuesEqual(r.value, expected)
          ? { formatOk: true, correct: true, similarity: 1 }
          : { formatOk: true, correct: false, similarity: expected === undefined ? 0 : valueSimilarity(r.value, expected), reason: 'output differs' };
      }
      case 'induction': {
        const p = parseProgram(tokens);
        let sim = 0;
        let failed: number | undefined;
        for (let i = 0; i < task.inputs.length; i++) {
          const r = run(p, task.inputs[i]!, opts);
          const expected = task.outputs[i];
          const ok = r.ok && expected !== undefined && valuesEqual(r.value, expected);
          if (!ok) failed ??= i;
          sim += r.ok && expected !== undefined ? valueSimilarity(r.value, expected) : 0;
        }
        if (failed === undefined) return { formatOk: true, correct: true, similarity: 1 };
        return {
          formatOk: true, correct: false, similarity: task.inputs.length ? sim / task.inputs.length : 0,
          reason: `pair ${failed}${failed >= task.shown ? ' (held out)' : ''} fails`,
        };
      }
    }
  } catch (e) {
    if (e instanceof DslError) return { formatOk: false, correct: false, reason: e.message };
    throw e;
  }
}
