/**
 * Grammar mask for constrained decoding. A state is an immutable plain object; functions:
 *
 *   initialState(kind, opts)  kind 'program' | 'value' | 'input' | 'draft'
 *   allowedNext(state)        the symbols (DSL symbols, `<in>` in drafts, END) allowed next
 *   advance(state, symbol)    the next state; throws DisallowedSymbolError otherwise
 *   isComplete(state)         the sequence so far is a whole program / value / draft
 *
 * END (`<eos>`) is allowed exactly when the state is complete; after it nothing is allowed.
 * `maxTokens` counts the symbols of the sequence, END excluded. A symbol is allowed only if a
 * complete sequence is still reachable within the remaining budget (`minToFinish` is the exact
 * shortest completion), so ANY walk that always picks among allowedNext reaches END within
 * maxTokens + 1 steps, and what it wrote parses (parseProgram / parseValue / parseDraft).
 *
 * Kinds: 'program' → parseProgram; 'value' → parseValue(…, 'value'); 'input' →
 * parseValue(…, 'input') (abduction answers); 'draft' → a proposer's draft
 * `program ( <in> input ){minInputs..maxInputs}` (format.ts parseDraft).
 */
import type { Ty } from './ast.ts';
import { BudgetError, DisallowedSymbolError } from './errors.ts';
import {
  INPUT_MAX_LEN, MAX_DRAFT_INPUTS, MAX_INPUT_TOKENS, MAX_INT_DIGITS, MAX_LIST_LEN, MAX_PROGRAM_TOKENS, MAX_STAGES,
  MAX_VALUE_TOKENS,
} from './limits.ts';
import {
  COMMA, DIGITS, END, FN_OPS, LBRACK, LIST_TO_INT, LIST_TO_LIST, MARK, MINUS, NONZERO_DIGITS, PIPE, PRED_OPS, RBRACK,
} from './symbols.ts';

export type GrammarKind = 'program' | 'value' | 'input' | 'draft';

type PState =
  | { readonly p: 'stage'; readonly ty: Ty; readonly n: number }
  | { readonly p: 'op'; readonly n: number }
  | { readonly p: 'pred'; readonly n: number }
  | { readonly p: 'digit'; readonly nz: boolean; readonly ty: Ty; readonly n: number }
  | { readonly p: 'end'; readonly ty: Ty; readonly n: number };

interface VState {
  readonly v: 'start' | 'neg' | 'int' | 'open' | 'comma' | 'done';
  readonly inList: boolean;
  /** Elements completed before the current one. */
  readonly len: number;
  readonly digits: number;
  readonly lead0: boolean;
}

interface VSpec { readonly neg: boolean; readonly maxDigits: number; readonly maxLen: number; readonly listOnly: boolean }
const VALUE_SPEC: VSpec = { neg: true, maxDigits: MAX_INT_DIGITS, maxLen: MAX_LIST_LEN, listOnly: false };
const INPUT_SPEC: VSpec = { neg: false, maxDigits: 1, maxLen: INPUT_MAX_LEN, listOnly: true };

export interface GrammarState {
  readonly kind: GrammarKind;
  readonly maxTokens: number;
  /** Symbols consumed so far (END excluded). */
  readonly used: number;
  readonly ended: boolean;
  readonly part: { readonly t: 'prog'; readonly s: PState } | { readonly t: 'val'; readonly s: VState };
  /** Drafts: inputs completed before the current one, and the allowed count. */
  readonly inputs: number;
  readonly minInputs: number;
  readonly maxInputs: number;
}

export interface GrammarOptions {
  /** Token budget (END excluded); defaults to the kind's structural maximum. */
  readonly maxTokens?: number;
  /** Drafts only: how many `<in>` inputs (default 1..1). */
  readonly minInputs?: number;
  readonly maxInputs?: number;
}

// ---- program automaton -----------------------------------------------------------------------
function progCandidates(s: PState): readonly string[] {
  switch (s.p) {
    case 'stage': return s.ty === 'list' ? [...LIST_TO_LIST, ...LIST_TO_INT] : FN_OPS;
    case 'op': return FN_OPS;
    case 'pred': return PRED_OPS;
    case 'digit': return s.nz ? NONZERO_DIGITS : DIGITS;
    case 'end': return s.n < MAX_STAGES ? [PIPE] : [];
  }
}

function progStep(s: PState, t: string): PState {
  const nz = t === '/' || t === '%';
  switch (s.p) {
    case 'stage':
      if (s.ty === 'int') return { p: 'digit', nz, ty: 'int', n: s.n };
      if (t === 'map') return { p: 'op', n: s.n };
      if (t === 'filter') return { p: 'pred', n: s.n };
      if (t === 'take' || t === 'drop') return { p: 'digit', nz: false, ty: 'list', n: s.n };
      return { p: 'end', ty: t === 'reverse' || t === 'sort' ? 'list' : 'int', n: s.n + 1 };
    case 'op': return { p: 'digit', nz, ty: 'list', n: s.n };
    case 'pred':
      return t === 'even' || t === 'odd' ? { p: 'end', ty: 'list', n: s.n + 1 } : { p: 'digit', nz: false, ty: 'list', n: s.n };
    case 'digit': return { p: 'end', ty: s.ty, n: s.n + 1 };
    case 'end': return { p: 'stage', ty: s.ty, n: s.n };
  }
}

function progMin(s: PState): number {
  switch (s.p) {
    case 'stage': return s.ty === 'list' ? 1 : 2;
    case 'op': return 2;
    case 'pred': case 'digit': return 1;
    case 'end': return 0;
  }
}

// ---- value automaton -------------------------------------------------------------------------
const V0: VState = { v: 'start', inList: false, len: 0, digits: 0, lead0: false };

function valCandidates(s: VState, spec: VSpec): readonly string[] {
  const elem = spec.neg ? [MINUS, ...DIGITS] : DIGITS;
  switch (s.v) {
    case 'start': return spec.listOnly ? [LBRACK] : [LBRACK, ...elem];
    case 'neg': return NONZERO_DIGITS;
    case 'int': {
      const out: string[] = !s.lead0 && s.digits < spec.maxDigits ? [...DIGITS] : [];
      if (s.inList) out.push(...(s.len + 1 < spec.maxLen ? [COMMA, RBRACK] : [RBRACK]));
      return out;
    }
    case 'open': return [RBRACK, ...elem];
    case 'comma': return elem;
    case 'done': return [];
  }
}

function valStep(s: VState, t: string): VState {
  if (t === LBRACK) return { ...V0, v: 'open', inList: true };
  if (t === RBRACK) return { ...s, v: 'done' };
  if (t === COMMA) return { ...s, v: 'comma', len: s.len + 1, digits: 0, lead0: false };
  if (t === MINUS) return { ...s, v: 'neg', digits: 0, lead0: false };
  // a digit: starts or extends an int
  if (s.v === 'int') return { ...s, digits: s.digits + 1 };
  return { ...s, v: 'int', digits: 1, lead0: s.v !== 'neg' && t === '0' };
}

function valMin(s: VState, spec: VSpec): number {
  switch (s.v) {
    case 'start': return spec.listOnly ? 2 : 1;
    case 'neg': return s.inList ? 2 : 1;
    case 'int': return s.inList ? 1 : 0;
    case 'open': return 1;
    case 'comma': return 2;
    case 'done': return 0;
  }
}

const valComplete = (s: VState): boolean => s.v === 'done' || (s.v === 'int' && !s.inList);

// ---- combined ----------------------------------------------------------------------------------
const specOf = (st: GrammarState): VSpec => (st.kind === 'value' ? VALUE_SPEC : INPUT_SPEC);
/** Tokens of the shortest `<in> input`. */
const MIN_INPUT_BLOCK = 3;

function candidates(st: GrammarState): readonly string[] {
  if (st.part.t === 'prog') {
    const c = progCandidates(st.part.s);
    return st.kind === 'draft' && st.part.s.p === 'end' ? [...c, MARK.in] : c;
  }
  const c = valCandidates(st.part.s, specOf(st));
  return st.kind === 'draft' && st.part.s.v === 'done' && st.inputs + 1 < st.maxInputs ? [...c, MARK.in] : c;
}

function step(st: GrammarState, t: string): GrammarState {
  const used = st.used + 1;
  if (t === MARK.in) {
    const inputs = st.part.t === 'val' ? st.inputs + 1 : st.inputs;
    return { ...st, used, inputs, part: { t: 'val', s: V0 } };
  }
  if (st.part.t === 'prog') return { ...st, used, part: { t: 'prog', s: progStep(st.part.s, t) } };
  return { ...st, used, part: { t: 'val', s: valStep(st.part.s, t) } };
}

/** Fewest further symbols (END excluded) that complete the sequence. */
export function minToFinish(st: GrammarState): number {
  if (st.part.t === 'prog') {
    return progMin(st.part.s) + (st.kind === 'draft' ? MIN_INPUT_BLOCK * st.minInputs : 0);
  }
  const rest = st.kind === 'draft' ? MIN_INPUT_BLOCK * Math.max(0, st.minInputs - st.inputs - 1) : 0;
  return valMin(st.part.s, specOf(st)) + rest;
}

export function isComplete(st: GrammarState): boolean {
  if (st.part.t === 'prog') return st.kind === 'program' && st.part.s.p === 'end';
  if (!valComplete(st.part.s)) return false;
  return st.kind !== 'draft' || st.inputs + 1 >= st.minInputs;
}

function structuralMax(kind: GrammarKind, maxInputs: number): number {
  switch (kind) {
    case 'program': return MAX_PROGRAM_TOKENS;
    case 'value': return MAX_VALUE_TOKENS;
    case 'input': return MAX_INPUT_TOKENS;
    case 'draft': return MAX_PROGRAM_TOKENS + maxInputs * (1 + MAX_INPUT_TOKENS);
  }
}

export function initialState(kind: GrammarKind, opts: GrammarOptions = {}): GrammarState {
  const minInputs = opts.minInputs ?? 1;
  const maxInputs = opts.maxInputs ?? Math.max(1, minInputs);
  if (!Number.isInteger(minInputs) || !Number.isInteger(maxInputs) || minInputs < 1 || maxInputs < minInputs || maxInputs > MAX_DRAFT_INPUTS) {
    throw new BudgetError(maxInputs, minInputs);
  }
  const cap = structuralMax(kind, maxInputs);
  const maxTokens = Math.min(opts.maxTokens ?? cap, cap);
  const part = kind === 'program' || kind === 'draft'
    ? { t: 'prog' as const, s: { p: 'stage' as const, ty: 'list' as const, n: 0 } }
    : { t: 'val' as const, s: V0 };
  const st: GrammarState = { kind, maxTokens, used: 0, ended: false, part, inputs: 0, minInputs, maxInputs };
  const min = minToFinish(st);
  if (!Number.isInteger(maxTokens) || maxTokens < min) throw new BudgetError(maxTokens, min);
  return st;
}

function fits(st: GrammarState, t: string): boolean {
  return 1 + minToFinish(step(st, t)) <= st.maxTokens - st.used;
}

/** Allowed next symbols, in DSL_SYMBOLS-like order, END last when the sequence is complete. */
export function allowedNext(st: GrammarState): Set<string> {
  const out = new Set<string>();
  if (st.ended) return out;
  for (const t of candidates(st)) if (fits(st, t)) out.add(t);
  if (isComplete(st)) out.add(END);
  return out;
}

export function advance(st: GrammarState, symbol: string): GrammarState {
  if (!st.ended && symbol === END && isComplete(st)) return { ...st, ended: true };
  if (!st.ended && symbol !== END && candidates(st).includes(symbol) && fits(st, symbol)) return step(st, symbol);
  throw new DisallowedSymbolError(symbol, [...allowedNext(st)]);
}

/** Advance through a whole sequence (END optional at the end); throws on the first bad symbol. */
export function advanceAll(st: GrammarState, symbols: readonly string[]): GrammarState {
  let s = st;
  for (const t of symbols) s = advance(s, t);
  return s;
}
