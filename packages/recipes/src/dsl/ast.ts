/**
 * AST of DSL programs and the value type. Nodes are plain frozen-shape objects built only through
 * the constructors below, so a parsed program and a generated one deep-equal when they print the
 * same.
 */
import { InvalidProgramError } from './errors.ts';
import { MAX_STAGES, MAX_PROGRAM_TOKENS } from './limits.ts';
import type { FN_OPS, LIST_TO_INT } from './symbols.ts';

export type Ty = 'list' | 'int';
/** A DSL value: an int or an int list. */
export type Value = number | readonly number[];

export type FnOp = (typeof FN_OPS)[number];
export interface Fn { readonly op: FnOp; readonly k: number }

export type CmpOp = 'gt' | 'lt' | 'eq';
export type ParityOp = 'even' | 'odd';
export type Pred = { readonly op: CmpOp; readonly k: number } | { readonly op: ParityOp };

export type Reducer = (typeof LIST_TO_INT)[number];
export type Stage =
  | { readonly kind: 'map'; readonly fn: Fn }
  | { readonly kind: 'filter'; readonly pred: Pred }
  | { readonly kind: 'take' | 'drop'; readonly k: number }
  | { readonly kind: 'reverse' | 'sort' }
  | { readonly kind: Reducer }
  | { readonly kind: 'arith'; readonly fn: Fn };

export interface Program { readonly stages: readonly Stage[] }

export const fn = (op: FnOp, k: number): Fn => ({ op, k });
export function pred(op: CmpOp, k: number): Pred;
export function pred(op: ParityOp): Pred;
export function pred(op: CmpOp | ParityOp, k?: number): Pred {
  return op === 'even' || op === 'odd' ? { op } : { op, k: k ?? 0 };
}
export const mapS = (f: Fn): Stage => ({ kind: 'map', fn: f });
export const filterS = (p: Pred): Stage => ({ kind: 'filter', pred: p });
export const takeS = (k: number): Stage => ({ kind: 'take', k });
export const dropS = (k: number): Stage => ({ kind: 'drop', k });
export const arithS = (f: Fn): Stage => ({ kind: 'arith', fn: f });
export const simpleS = (kind: 'reverse' | 'sort' | Reducer): Stage => ({ kind });
export const program = (stages: readonly Stage[]): Program => ({ stages });

/** The type a stage reads. */
export function stageInput(s: Stage): Ty {
  return s.kind === 'arith' ? 'int' : 'list';
}

/** The type a stage produces. */
export function stageOutput(s: Stage): Ty {
  switch (s.kind) {
    case 'map': case 'filter': case 'take': case 'drop': case 'reverse': case 'sort': return 'list';
    default: return 'int';
  }
}

/** The result type of a program (list for the empty pipeline, which checkProgram rejects). */
export function resultType(p: Program): Ty {
  const last = p.stages[p.stages.length - 1];
  return last ? stageOutput(last) : 'list';
}

/** Number of tokens `printProgram` produces, without printing. */
export function programTokenCount(p: Program): number {
  let n = Math.max(0, p.stages.length - 1);
  for (const s of p.stages) {
    if (s.kind === 'map' || (s.kind === 'filter' && 'k' in s.pred)) n += 3;
    else if (s.kind === 'filter' || s.kind === 'take' || s.kind === 'drop' || s.kind === 'arith') n += 2;
    else n += 1;
  }
  return n;
}

const isDigit = (k: unknown, min: number): boolean => Number.isInteger(k) && (k as number) >= min && (k as number) <= 9;

function checkFn(f: Fn, at: number): void {
  const min = f.op === '/' || f.op === '%' ? 1 : 0;
  if (!['+', '-', '*', '/', '%'].includes(f.op)) throw new InvalidProgramError(at, `unknown fn op ${String(f.op)}`);
  if (!isDigit(f.k, min)) throw new InvalidProgramError(at, `constant of ${f.op} must be a digit ${min}..9`);
}

/**
 * Check a hand-built AST against the grammar's typing and range rules (parsed ASTs always pass).
 * Throws InvalidProgramError naming the first bad stage.
 */
export function checkProgram(p: Program): void {
  if (!p || !Array.isArray(p.stages)) throw new InvalidProgramError(-1, 'program must have a stages array');
  if (p.stages.length === 0) throw new InvalidProgramError(-1, 'program has no stages');
  if (p.stages.length > MAX_STAGES) throw new InvalidProgramError(-1, `more than ${MAX_STAGES} stages`);
  let ty: Ty = 'list';
  p.stages.forEach((s, i) => {
    if (stageInput(s) !== ty) throw new InvalidProgramError(i, `${s.kind} reads ${stageInput(s)} but gets ${ty}`);
    switch (s.kind) {
      case 'map': case 'arith': checkFn(s.fn, i); break;
      case 'filter': {
        const q = s.pred;
        if (q.op === 'even' || q.op === 'odd') break;
        if (!['gt', 'lt', 'eq'].includes(q.op)) throw new InvalidProgramError(i, `unknown predicate ${String(q.op)}`);
        if (!isDigit(q.k, 0)) throw new InvalidProgramError(i, 'predicate constant must be a digit 0..9');
        break;
      }
      case 'take': case 'drop':
        if (!isDigit(s.k, 0)) throw new InvalidProgramError(i, `${s.kind} count must be a digit 0..9`);
        break;
      case 'reverse': case 'sort': case 'sum': case 'len': case 'max': case 'min': case 'head': case 'last': break;
      default: throw new InvalidProgramError(i, `unknown stage ${String((s as { kind: unknown }).kind)}`);
    }
    ty = stageOutput(s);
  });
  if (programTokenCount(p) > MAX_PROGRAM_TOKENS) throw new InvalidProgramError(-1, `more than ${MAX_PROGRAM_TOKENS} tokens`);
}
