/**
 * Grammar masks for constrained decoding of questions and answers. A state is an immutable plain
 * object; the functions mirror the DSL's grammar mask:
 *
 *   questionState(opts) / answerState(opts)   initial states
 *   allowedNext(state)   the symbols (ARITH_SYMBOLS, END) allowed next
 *   advance(state, sym)  the next state; throws DisallowedSymbolError otherwise
 *   isComplete(state)    the sequence so far is a whole question / answer
 *
 * `maxTokens` counts symbols, END excluded. A symbol is allowed only if a complete sequence is
 * still reachable within the remaining budget (`minToFinish` is the exact shortest completion),
 * so ANY walk that always picks among allowedNext reaches END within maxTokens + 1 steps, and
 * what it wrote parses: questions with parseExpr under the same maxTokens/maxDepth (literals of
 * at most MASK_LITERAL_DIGITS digits, at least one operator), answers with parseAnswer.
 * The mask is syntactic: a masked question may still leave the value bound (then it is invalid).
 */
import type { LogitMask } from '@spar/policy/schema';
import { EOS_ID, type Vocabulary } from '@spar/policy/schema';
import { BudgetError, DisallowedSymbolError } from './errors.ts';
import {
  DIGITS, END, LPAREN, MASK_LITERAL_DIGITS, MAX_ANSWER_DIGITS, MAX_DEPTH, MAX_QUESTION_TOKENS, MINUS, NONZERO_DIGITS, OPERATORS, RPAREN,
} from './symbols.ts';

interface QPart {
  readonly t: 'q';
  /** 'operand': a literal or '(' is due; 'literal': inside a literal; 'closed': after ')'. */
  readonly mode: 'operand' | 'literal' | 'closed';
  readonly depth: number;
  readonly digits: number;
  readonly lead0: boolean;
  readonly ops: number;
  readonly maxDepth: number;
  readonly maxOps: number;
  readonly literalDigits: number;
  readonly operators: readonly string[];
}

interface APart {
  readonly t: 'a';
  readonly mode: 'start' | 'neg' | 'int';
  readonly digits: number;
  readonly lead0: boolean;
  readonly maxDigits: number;
}

export interface GrammarState {
  readonly maxTokens: number;
  /** Symbols consumed so far (END excluded). */
  readonly used: number;
  readonly ended: boolean;
  readonly part: QPart | APart;
}

function candidates(p: QPart | APart): readonly string[] {
  if (p.t === 'a') {
    if (p.mode === 'start') return [MINUS, ...DIGITS];
    if (p.mode === 'neg') return NONZERO_DIGITS;
    return !p.lead0 && p.digits < p.maxDigits ? DIGITS : [];
  }
  if (p.mode === 'operand') return p.depth < p.maxDepth ? [LPAREN, ...DIGITS] : DIGITS;
  const out: string[] = p.mode === 'literal' && !p.lead0 && p.digits < p.literalDigits ? [...DIGITS] : [];
  if (p.ops < p.maxOps) out.push(...p.operators);
  if (p.depth > 0) out.push(RPAREN);
  return out;
}

function stepPart(p: QPart | APart, t: string): QPart | APart {
  if (p.t === 'a') {
    if (t === MINUS) return { ...p, mode: 'neg' };
    if (p.mode === 'int') return { ...p, digits: p.digits + 1 };
    return { ...p, mode: 'int', digits: 1, lead0: p.mode === 'start' && t === '0' };
  }
  if (t === LPAREN) return { ...p, mode: 'operand', depth: p.depth + 1 };
  if (t === RPAREN) return { ...p, mode: 'closed', depth: p.depth - 1 };
  if (t === '+' || t === '-' || t === '*') return { ...p, mode: 'operand', ops: p.ops + 1 };
  if (p.mode === 'literal') return { ...p, digits: p.digits + 1 };
  return { ...p, mode: 'literal', digits: 1, lead0: t === '0' };
}

/** Fewest further symbols (END excluded) that complete the sequence. */
export function minToFinish(st: GrammarState): number {
  const p = st.part;
  if (p.t === 'a') return p.mode === 'int' ? 0 : 1;
  const needOp = p.ops === 0 ? 2 : 0;
  return (p.mode === 'operand' ? 1 : 0) + p.depth + needOp;
}

export function isComplete(st: GrammarState): boolean {
  const p = st.part;
  if (p.t === 'a') return p.mode === 'int';
  return p.mode !== 'operand' && p.depth === 0 && p.ops >= 1;
}

function step(st: GrammarState, t: string): GrammarState {
  return { ...st, used: st.used + 1, part: stepPart(st.part, t) };
}

function fits(st: GrammarState, t: string): boolean {
  return 1 + minToFinish(step(st, t)) <= st.maxTokens - st.used;
}

function initial(part: QPart | APart, maxTokens: number): GrammarState {
  const st: GrammarState = { maxTokens, used: 0, ended: false, part };
  const min = minToFinish(st);
  if (!Number.isInteger(maxTokens) || maxTokens < min) throw new BudgetError(maxTokens, min);
  return st;
}

export interface QuestionGrammarOptions {
  readonly maxTokens?: number;
  readonly maxDepth?: number;
  /** Most binary operators (default: as many as fit). */
  readonly maxOperators?: number;
  /** Longest literal (default and at most MASK_LITERAL_DIGITS). */
  readonly maxLiteralDigits?: number;
  /** The binary operators a question may use (default all of OPERATORS). */
  readonly operators?: readonly string[];
}

/** A question: at least one operator (at most maxOperators), parentheses nested ≤ maxDepth, ≤ maxTokens symbols. */
export function questionState(o: QuestionGrammarOptions = {}): GrammarState {
  const maxDepth = Math.min(o.maxDepth ?? MAX_DEPTH, MAX_DEPTH);
  const maxOps = Math.max(1, o.maxOperators ?? MAX_QUESTION_TOKENS);
  const literalDigits = Math.max(1, Math.min(o.maxLiteralDigits ?? MASK_LITERAL_DIGITS, MASK_LITERAL_DIGITS));
  const operators = OPERATORS.filter((op) => !o.operators || o.operators.includes(op));
  const part: QPart = { t: 'q', mode: 'operand', depth: 0, digits: 0, lead0: false, ops: 0, maxDepth, maxOps, literalDigits, operators };
  return initial(part, Math.min(o.maxTokens ?? MAX_QUESTION_TOKENS, MAX_QUESTION_TOKENS));
}

/** An answer: a canonical integer with at most `maxDigits` digits (and a sign), ≤ maxTokens symbols. */
export function answerState(o: { readonly maxDigits?: number; readonly maxTokens?: number } = {}): GrammarState {
  const maxDigits = Math.min(o.maxDigits ?? MAX_ANSWER_DIGITS, MAX_ANSWER_DIGITS);
  return initial({ t: 'a', mode: 'start', digits: 0, lead0: false, maxDigits }, o.maxTokens ?? maxDigits + 1);
}

/** Allowed next symbols, END last when the sequence is complete. */
export function allowedNext(st: GrammarState): Set<string> {
  const out = new Set<string>();
  if (st.ended) return out;
  for (const t of candidates(st.part)) if (fits(st, t)) out.add(t);
  if (isComplete(st)) out.add(END);
  return out;
}

export function advance(st: GrammarState, symbol: string): GrammarState {
  if (!st.ended && symbol === END && isComplete(st)) return { ...st, ended: true };
  if (!st.ended && symbol !== END && candidates(st.part).includes(symbol) && fits(st, symbol)) return step(st, symbol);
  throw new DisallowedSymbolError(symbol, [...allowedNext(st)]);
}

/**
 * A generate() logit mask that keeps every row inside the grammar: one state per row, advanced
 * by the row's last generated token (recomputed from the whole row if calls skip a step).
 */
export function grammarMask(vocab: Vocabulary, init: (row: number) => GrammarState): LogitMask {
  const states = new Map<number, { len: number; st: GrammarState }>();
  const symbolOf = (id: number): string => (id === EOS_ID ? END : vocab.symbol(id));
  return (row, generated) => {
    let c = states.get(row);
    if (!c || c.len > generated.length) c = { len: 0, st: init(row) };
    while (c.len < generated.length) c = { len: c.len + 1, st: advance(c.st, symbolOf(generated[c.len]!)) };
    states.set(row, c);
    const mask = new Uint8Array(vocab.size);
    for (const s of allowedNext(c.st)) mask[s === END ? EOS_ID : vocab.id(s)] = 1;
    return mask;
  };
}
