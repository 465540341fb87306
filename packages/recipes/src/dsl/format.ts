/**
 * Prompt / answer token formats. Markers (DSL_SPECIALS) are specials; everything between them is
 * DSL symbols. The policy writes the answer after the prompt and ends it with END (`<eos>`).
 *
 *   deduction  prompt  <deduce> <prog> P <in> X <out>             answer  Y          (kind 'value')
 *   abduction  prompt  <abduce> <prog> P <out> Y <in>             answer  X          (kind 'input')
 *   induction  prompt  <induce> <in> X1 <out> Y1 … <in> Xs <out> Ys <prog>
 *                                                                  answer  P          (kind 'program')
 *   proposer   prompt  <propose> <deduce|abduce|induce> { <ref> REF } <prog>
 *              where REF = <prog> P { <in> X <out> Y }  (every pair of a reference task)
 *              draft   P <in> X { <in> X }                                   (kind 'draft')
 */
import { parseProgram, parseValue } from './parser.ts';
import { printProgram, printValue } from './printer.ts';
import { DslError, FormatError, SizeLimitError } from './errors.ts';
import { MAX_DRAFT_INPUTS, MAX_DRAFT_TOKENS } from './limits.ts';
import { END, MARK } from './symbols.ts';
import type { GrammarKind } from './grammar-mask.ts';
import type { Draft, Task, TaskType } from './task-types.ts';

const TYPE_MARK: Record<TaskType, string> = { deduction: MARK.deduce, abduction: MARK.abduce, induction: MARK.induce };

export function renderSolverPrompt(task: Task): string[] {
  const x = task.inputs[0] ?? [];
  const y = task.outputs[0] ?? 0;
  switch (task.type) {
    case 'deduction': return [MARK.deduce, MARK.prog, ...printProgram(task.program), MARK.in, ...printValue(x), MARK.out];
    case 'abduction': return [MARK.abduce, MARK.prog, ...printProgram(task.program), MARK.out, ...printValue(y), MARK.in];
    case 'induction': {
      const out: string[] = [MARK.induce];
      for (let i = 0; i < task.shown; i++) {
        out.push(MARK.in, ...printValue(task.inputs[i] ?? []), MARK.out, ...printValue(task.outputs[i] ?? 0));
      }
      out.push(MARK.prog);
      return out;
    }
  }
}

/** The reference answer (END not included). For abduction it is the original input, one of possibly many. */
export function renderAnswer(task: Task): string[] {
  switch (task.type) {
    case 'deduction': return printValue(task.outputs[0] ?? 0);
    case 'abduction': return printValue(task.inputs[0] ?? []);
    case 'induction': return printProgram(task.program);
  }
}

/** Grammar-mask kind for the solver's answer to a task of this type. */
export function answerKind(type: TaskType): GrammarKind {
  return type === 'deduction' ? 'value' : type === 'abduction' ? 'input' : 'program';
}

/** A task as a proposer's reference: program and every (input, output) pair. */
export function renderReference(task: Task): string[] {
  const out: string[] = [MARK.prog, ...printProgram(task.program)];
  task.inputs.forEach((x, i) => out.push(MARK.in, ...printValue(x), MARK.out, ...printValue(task.outputs[i] ?? 0)));
  return out;
}

export function renderProposerPrompt(type: TaskType, refs: readonly Task[]): string[] {
  const out: string[] = [MARK.propose, TYPE_MARK[type]];
  for (const r of refs) out.push(MARK.ref, ...renderReference(r));
  out.push(MARK.prog);
  return out;
}

/** Drop one trailing END, if present. */
export function stripEnd(tokens: readonly string[]): readonly string[] {
  return tokens.length > 0 && tokens[tokens.length - 1] === END ? tokens.slice(0, -1) : tokens;
}

export interface DraftOptions {
  readonly minInputs?: number;
  readonly maxInputs?: number;
}

/**
 * Parse a proposer's draft `P <in> X { <in> X }` (one trailing END allowed). Throws FormatError
 * whose `section` is 'draft', 'program' or 'input <i>' and whose `cause` is the parse error.
 */
export function parseDraft(tokens: readonly string[], opts: DraftOptions = {}): Draft {
  const minInputs = opts.minInputs ?? 1;
  const maxInputs = Math.min(opts.maxInputs ?? MAX_DRAFT_INPUTS, MAX_DRAFT_INPUTS);
  if (!Array.isArray(tokens)) throw new FormatError('draft', 'must be a token array');
  if (tokens.length > MAX_DRAFT_TOKENS + 1) throw new FormatError('draft', new SizeLimitError('draft tokens', MAX_DRAFT_TOKENS, tokens.length));
  const body = stripEnd(tokens);
  const parts: string[][] = [[]];
  for (const t of body) {
    if (t === MARK.in) parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  const [progTokens = [], ...inputTokens] = parts;
  if (inputTokens.length < minInputs || inputTokens.length > maxInputs) {
    throw new FormatError('draft', `expected ${minInputs}..${maxInputs} inputs after ${MARK.in}, got ${inputTokens.length}`);
  }
  const wrap = <T>(section: string, f: () => T): T => {
    try { return f(); } catch (e) {
      if (e instanceof DslError) throw new FormatError(section, e);
      throw e;
    }
  };
  const program = wrap('program', () => parseProgram(progTokens));
  const inputs = inputTokens.map((x, i) => wrap(`input ${i}`, () => parseValue(x, 'input') as readonly number[]));
  return { program, inputs };
}

/** Render a draft in the same format (used by tests and by the fixed generator's warm-start data). */
export function renderDraft(d: Draft): string[] {
  const out = printProgram(d.program);
  for (const x of d.inputs) out.push(MARK.in, ...printValue(x));
  return out;
}
