/**
 * Parser: token sequences → AST / values. Iterative (the grammar is flat: a pipeline of stages,
 * flat lists), so no input can grow the JS stack; the token count is checked against the limit
 * before anything else. Errors are ParseError (position, expected set, found) or SizeLimitError.
 * The expected sets are exactly the grammar mask's symbols (without a length budget).
 */
import {
  arithS, dropS, filterS, fn, mapS, pred, program, simpleS, stageOutput, takeS,
  type CmpOp, type Fn, type FnOp, type Pred, type Program, type Stage, type Ty, type Value,
} from './ast.ts';
import { ParseError, SizeLimitError } from './errors.ts';
import {
  INPUT_MAX_LEN, MAX_INPUT_TOKENS, MAX_INT_DIGITS, MAX_LIST_LEN, MAX_PROGRAM_TOKENS, MAX_STAGES, MAX_VALUE_TOKENS,
} from './limits.ts';
import {
  COMMA, DIGITS, END, FN_OPS, LBRACK, LIST_TO_INT, LIST_TO_LIST, MINUS, NONZERO_DIGITS, PIPE, PRED_OPS, RBRACK,
} from './symbols.ts';

export type ValueKind = 'value' | 'input';

interface Cursor {
  readonly tokens: readonly string[];
  pos: number;
}

function peek(c: Cursor): string {
  const t = c.tokens[c.pos];
  return t === undefined ? END : typeof t === 'string' ? t : String(t);
}

function fail(c: Cursor, expected: readonly string[], detail?: string): never {
  throw new ParseError(c.pos, expected, peek(c), detail);
}

/** Consume the next token if it is in `allowed`, else throw with `allowed` as the expected set. */
function take(c: Cursor, allowed: readonly string[], detail?: string): string {
  const t = peek(c);
  if (t === END || !allowed.includes(t)) fail(c, allowed, detail);
  c.pos++;
  return t;
}

function checkArray(tokens: readonly string[], limit: number, what: string): void {
  if (!Array.isArray(tokens)) throw new ParseError(0, [], String(tokens), `${what} must be a token array`);
  if (tokens.length > limit) throw new SizeLimitError(`${what} tokens`, limit, tokens.length);
}

const STAGE_START: Record<Ty, readonly string[]> = { list: [...LIST_TO_LIST, ...LIST_TO_INT], int: FN_OPS };

function parseFn(c: Cursor): Fn {
  const op = take(c, FN_OPS) as FnOp;
  const digits = op === '/' || op === '%' ? NONZERO_DIGITS : DIGITS;
  return fn(op, Number(take(c, digits)));
}

function parsePred(c: Cursor): Pred {
  const op = take(c, PRED_OPS);
  if (op === 'even' || op === 'odd') return pred(op);
  return pred(op as CmpOp, Number(take(c, DIGITS)));
}

function parseStage(c: Cursor, ty: Ty): Stage {
  if (ty === 'int') return arithS(parseFn(c));
  const kw = take(c, STAGE_START.list);
  switch (kw) {
    case 'map': return mapS(parseFn(c));
    case 'filter': return filterS(parsePred(c));
    case 'take': return takeS(Number(take(c, DIGITS)));
    case 'drop': return dropS(Number(take(c, DIGITS)));
    default: return simpleS(kw as 'reverse');
  }
}

/** Parse a whole program (no trailing END: strip it first). */
export function parseProgram(tokens: readonly string[]): Program {
  checkArray(tokens, MAX_PROGRAM_TOKENS, 'program');
  const c: Cursor = { tokens, pos: 0 };
  const stages: Stage[] = [];
  let ty: Ty = 'list';
  for (;;) {
    const s = parseStage(c, ty);
    stages.push(s);
    ty = stageOutput(s);
    const more = stages.length < MAX_STAGES;
    const t = peek(c);
    if (t === END) break;
    if (t === PIPE && more) { c.pos++; continue; }
    fail(c, more ? [PIPE, END] : [END], more ? undefined : `at most ${MAX_STAGES} stages`);
  }
  return program(stages);
}

/**
 * Parse one int starting at the cursor. `after` is what may follow a complete int (END at top
 * level; `,` / `]` inside a list), used for the expected set.
 */
function parseInt_(c: Cursor, allowNeg: boolean, maxDigits: number, after: readonly string[]): number {
  let neg = false;
  const first = allowNeg ? [MINUS, ...DIGITS] : DIGITS;
  let lead = take(c, first);
  if (lead === MINUS) { neg = true; lead = take(c, NONZERO_DIGITS, 'no "- 0"'); }
  let n = Number(lead);
  let count = 1;
  const extendable = lead !== '0';
  while (extendable && count < maxDigits && (DIGITS as readonly string[]).includes(peek(c))) {
    n = n * 10 + Number(take(c, DIGITS));
    count++;
  }
  if (!after.includes(peek(c))) fail(c, extendable && count < maxDigits ? [...DIGITS, ...after] : after);
  return neg ? -n : n;
}

/**
 * Parse a value. kind 'value': an int or a list of ints (any sign, ≤ 6 digits, ≤ 32 elements);
 * kind 'input': a list of 0..8 single digits (the input domain of `x`). No trailing END.
 */
export function parseValue(tokens: readonly string[], kind: ValueKind = 'value'): Value {
  checkArray(tokens, kind === 'input' ? MAX_INPUT_TOKENS : MAX_VALUE_TOKENS, kind);
  const c: Cursor = { tokens, pos: 0 };
  const neg = kind === 'value';
  const digits = kind === 'value' ? MAX_INT_DIGITS : 1;
  const maxLen = kind === 'value' ? MAX_LIST_LEN : INPUT_MAX_LEN;
  const elemStart: readonly string[] = neg ? [MINUS, ...DIGITS] : DIGITS;
  if (kind === 'input' || peek(c) === LBRACK) {
    take(c, kind === 'input' ? [LBRACK] : [LBRACK, ...elemStart]);
    const out: number[] = [];
    if (peek(c) === RBRACK) c.pos++;
    else {
      if (peek(c) === END || !elemStart.includes(peek(c))) fail(c, [RBRACK, ...elemStart]);
      for (;;) {
        const full = out.length + 1 >= maxLen;
        out.push(parseInt_(c, neg, digits, full ? [RBRACK] : [COMMA, RBRACK]));
        if (take(c, full ? [RBRACK] : [COMMA, RBRACK]) === RBRACK) break;
      }
    }
    if (peek(c) !== END) fail(c, [END]);
    return out;
  }
  if (!elemStart.includes(peek(c))) fail(c, [LBRACK, ...elemStart]);
  return parseInt_(c, neg, digits, [END]);
}
