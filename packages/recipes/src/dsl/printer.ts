/**
 * Printer: AST / values → canonical token sequences. For every program p the parser returns,
 * parseProgram(printProgram(p)) deep-equals p, and printProgram(parseProgram(t)) equals t for
 * canonical t (the grammar admits only canonical forms, so that is every t that parses).
 */
import type { Fn, Pred, Program, Stage, Value } from './ast.ts';
import { InvalidValueError, ValueOverflowError } from './errors.ts';
import { MAX_INT, MAX_LIST_LEN } from './limits.ts';
import { COMMA, LBRACK, MINUS, PIPE, RBRACK } from './symbols.ts';

const fnTokens = (f: Fn): string[] => [f.op, String(f.k)];
const predTokens = (p: Pred): string[] => ('k' in p ? [p.op, String(p.k)] : [p.op]);

function stageTokens(s: Stage): string[] {
  switch (s.kind) {
    case 'map': return ['map', ...fnTokens(s.fn)];
    case 'filter': return ['filter', ...predTokens(s.pred)];
    case 'take': case 'drop': return [s.kind, String(s.k)];
    case 'arith': return fnTokens(s.fn);
    default: return [s.kind];
  }
}

export function printProgram(p: Program): string[] {
  const out: string[] = [];
  p.stages.forEach((s, i) => {
    if (i > 0) out.push(PIPE);
    out.push(...stageTokens(s));
  });
  return out;
}

/** Canonical text of a program: tokens joined by single spaces. */
export function programText(p: Program): string {
  return printProgram(p).join(' ');
}

/** Throw unless `v` is a DSL value within the size limits (ints |v| ≤ MAX_INT, lists ≤ MAX_LIST_LEN). */
export function checkValue(v: unknown): asserts v is Value {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new InvalidValueError(`not an integer: ${v}`);
    if (Math.abs(v) > MAX_INT) throw new ValueOverflowError('int', MAX_INT, v);
    return;
  }
  if (!Array.isArray(v)) throw new InvalidValueError(`not an int or int list: ${typeof v}`);
  if (v.length > MAX_LIST_LEN) throw new ValueOverflowError('list', MAX_LIST_LEN, v.length);
  for (const e of v) {
    if (typeof e !== 'number') throw new InvalidValueError(`list element is not an int: ${typeof e}`);
    checkValue(e);
  }
}

function intTokens(n: number): string[] {
  const digits = String(Math.abs(n)).split('');
  return n < 0 ? [MINUS, ...digits] : digits;
}

export function printValue(v: Value): string[] {
  checkValue(v);
  if (typeof v === 'number') return intTokens(v);
  const out = [LBRACK];
  v.forEach((e, i) => {
    if (i > 0) out.push(COMMA);
    out.push(...intTokens(e));
  });
  out.push(RBRACK);
  return out;
}

export function valueText(v: Value): string {
  return printValue(v).join(' ');
}
