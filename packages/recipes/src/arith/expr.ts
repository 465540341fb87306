/**
 * Integer expressions: parser, exact bounded evaluator, canonical printer, answer parser.
 *
 *   expr   := term (('+' | '-') term)*
 *   term   := factor ('*' factor)*
 *   factor := literal | '(' expr ')'
 *   literal:= '0' | [1-9][0-9]*            (no leading zeros, value ≤ VALUE_BOUND)
 *
 * No whitespace, no unary minus. Operators are left-associative; `*` binds tighter than `+ -`.
 * Safety: the length limit is checked before any work, recursion happens only at '(' and stops
 * at `maxDepth`, and long operator chains are parsed by loops (so 10k '(' or 10k '1+' are
 * rejected in O(limit)). The evaluator is exact: every value stays within ±VALUE_BOUND (checked
 * after each operation; products of two in-bound values are below 2^60 and the comparison with
 * the bound is exact in float64 because rounding is monotonic and the bound is representable).
 *
 * The canonical printer writes the fewest parentheses that keep the tree: a child in a looser
 * operator, or a right child of the same precedence, is parenthesised (so `2-(3-4)` and
 * `2+(3+4)` keep theirs, `(2+3)+4` prints `2+3+4`). parse(print(e)) equals e structurally.
 */
import { ArithError } from './errors.ts';
import { isDigit, MAX_ANSWER_DIGITS, MAX_DEPTH, MAX_QUESTION_TOKENS, VALUE_BOUND, type Op } from './symbols.ts';

export type Expr =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'bin'; readonly op: Op; readonly l: Expr; readonly r: Expr };

export interface ParseLimits {
  /** Characters (= tokens) at most; default MAX_QUESTION_TOKENS. */
  readonly maxTokens?: number;
  /** Parenthesis nesting at most; default MAX_DEPTH. */
  readonly maxDepth?: number;
}

/** Absolute ceiling on any caller's limits (keeps recursion over the tree shallow). */
const PARSE_CEILING = 1024;
const LITERAL_MAX_CHARS = String(VALUE_BOUND).length;

export const num = (v: number): Expr => ({ k: 'num', v });
export const bin = (op: Op, l: Expr, r: Expr): Expr => ({ k: 'bin', op, l, r });

/** Parse an expression; throws ArithError (too_long, too_deep, syntax, bad_literal, out_of_bounds). */
export function parseExpr(text: string, limits: ParseLimits = {}): Expr {
  if (typeof text !== 'string') throw new ArithError('syntax', `expected a string, got ${typeof text}`);
  const maxTokens = Math.min(limits.maxTokens ?? MAX_QUESTION_TOKENS, PARSE_CEILING);
  const maxDepth = Math.min(limits.maxDepth ?? MAX_DEPTH, PARSE_CEILING);
  if (text.length > maxTokens) throw new ArithError('too_long', `${text.length} tokens exceed the limit ${maxTokens}`);
  if (text.length === 0) throw new ArithError('syntax', 'empty expression', 0);
  let i = 0;
  const peek = (): string | undefined => text[i];
  const fail = (expected: string): never => {
    const found = i < text.length ? JSON.stringify(text[i]) : 'end of input';
    throw new ArithError('syntax', `at ${i}: found ${found}, expected ${expected}`, i);
  };

  const literal = (): Expr => {
    const start = i;
    while (i < text.length && isDigit(text[i]!)) {
      i++;
      if (i - start > LITERAL_MAX_CHARS) throw new ArithError('out_of_bounds', `literal at ${start} exceeds ${VALUE_BOUND}`, start);
    }
    const s = text.slice(start, i);
    if (s.length > 1 && s[0] === '0') throw new ArithError('bad_literal', `leading zero in ${s} at ${start}`, start);
    const v = Number(s);
    if (v > VALUE_BOUND) throw new ArithError('out_of_bounds', `literal ${s} exceeds ${VALUE_BOUND}`, start);
    return num(v);
  };
  const factor = (depth: number): Expr => {
    const c = peek();
    if (c === '(') {
      if (depth + 1 > maxDepth) throw new ArithError('too_deep', `parentheses nest deeper than ${maxDepth} at ${i}`, i);
      i++;
      const e = expr(depth + 1);
      if (peek() !== ')') fail("')' or an operator");
      i++;
      return e;
    }
    if (c !== undefined && isDigit(c)) return literal();
    return fail("a digit or '('");
  };
  const term = (depth: number): Expr => {
    let e = factor(depth);
    while (peek() === '*') {
      i++;
      e = bin('*', e, factor(depth));
    }
    return e;
  };
  function expr(depth: number): Expr {
    let e = term(depth);
    for (let c = peek(); c === '+' || c === '-'; c = peek()) {
      i++;
      e = bin(c, e, term(depth));
    }
    return e;
  }

  const e = expr(0);
  if (i < text.length) fail('an operator or end of input');
  return e;
}

function check(v: number, what: string): number {
  if (!(Math.abs(v) <= VALUE_BOUND)) throw new ArithError('out_of_bounds', `${what} = ${v} exceeds ±${VALUE_BOUND}`);
  return v;
}

/** Exact value; throws ArithError('out_of_bounds') when any literal or intermediate leaves ±VALUE_BOUND. */
export function evaluate(e: Expr): number {
  if (e.k === 'num') return check(e.v, 'literal');
  const a = evaluate(e.l);
  const b = evaluate(e.r);
  switch (e.op) {
    case '+': return check(a + b, 'a sum');
    case '-': return check(a - b, 'a difference');
    case '*': return check(a * b, 'a product') + 0; // + 0 turns -0 into 0
  }
}

const prec = (op: Op): number => (op === '*' ? 2 : 1);

/** Canonical text: minimal parentheses that preserve the tree (see the module comment). */
export function printExpr(e: Expr): string {
  const out: string[] = [];
  const go = (n: Expr, parentPrec: number, right: boolean): void => {
    if (n.k === 'num') return void out.push(String(n.v));
    const p = prec(n.op);
    const paren = p < parentPrec || (p === parentPrec && right);
    if (paren) out.push('(');
    go(n.l, p, false);
    out.push(n.op);
    go(n.r, p, true);
    if (paren) out.push(')');
  };
  go(e, 0, false);
  return out.join('');
}

/** Binary operators in the tree. */
export function operatorCount(e: Expr): number {
  return e.k === 'num' ? 0 : 1 + operatorCount(e.l) + operatorCount(e.r);
}

/** Deepest parenthesis nesting of the canonical text. */
export function parenDepth(text: string): number {
  let d = 0;
  let max = 0;
  for (const c of text) {
    if (c === '(') max = Math.max(max, ++d);
    else if (c === ')') d--;
  }
  return max;
}

const ANSWER = /^-?(0|[1-9][0-9]*)$/;

/**
 * The canonical integer an answer text denotes, or undefined when it is not one: optional '-',
 * no leading zeros, no '-0', at most `maxDigits` digits. Strict on purpose: the grammar mask
 * only writes canonical integers, so anything else is a format failure.
 */
export function parseAnswer(text: string, maxDigits = MAX_ANSWER_DIGITS): string | undefined {
  if (typeof text !== 'string' || text.length > maxDigits + 1 || !ANSWER.test(text) || text === '-0') return undefined;
  const digits = text[0] === '-' ? text.length - 1 : text.length;
  return digits <= maxDigits ? text : undefined;
}

/** Numeric order of two canonical integer strings (negative, zero, positive like a comparator). */
export function compareIntegers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
