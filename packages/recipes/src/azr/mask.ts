/**
 * Grammar-constrained decoding: a LogitMask (policy generate's `mask` hook) that walks the DSL
 * grammar automaton (dsl/grammar-mask.ts) over each row's generated symbols and allows exactly
 * the symbols the grammar allows next, END (`<eos>`) only when the sequence is complete. Since
 * the automaton only allows symbols from which a completion fits the budget, every row ends with
 * END within maxTokens + 1 tokens and what it wrote parses.
 *
 * Drafts additionally bound their program part by `programTokens`: a second 'program' automaton
 * runs alongside until the first `<in>`, and a symbol must be allowed by both (both automata allow
 * the candidates within their remaining budget, so one allowed set contains the other and the
 * intersection is never empty).
 */
import type { LogitMask, Vocabulary } from '@spar/policy/schema';
import { advance, allowedNext, initialState, isComplete, MARK, type GrammarKind, type GrammarState } from '../dsl/index.ts';

export interface MaskRow {
  readonly kind: GrammarKind;
  /** Symbols before END. */
  readonly maxTokens: number;
  /** Drafts: exact number of `<in>` inputs. */
  readonly inputs?: number;
  /** Drafts: budget of the program part. */
  readonly programTokens?: number;
  /**
   * Drafts: symbols of the draft already written in the prompt (AZR-style induction: the given
   * program and the first `<in>`); they count against maxTokens and the row continues after them.
   */
  readonly prefix?: readonly string[];
}

interface RowState {
  g: GrammarState;
  p: GrammarState | undefined;
  seen: number;
  dead: boolean;
}

function start(r: MaskRow): RowState {
  const inputs = r.inputs ?? 1;
  const s: RowState = {
    g: initialState(r.kind, { maxTokens: r.maxTokens, minInputs: inputs, maxInputs: inputs }),
    p: r.kind === 'draft' && r.programTokens !== undefined ? initialState('program', { maxTokens: r.programTokens }) : undefined,
    seen: 0, dead: false,
  };
  for (const sym of r.prefix ?? []) step(s, sym);
  return s;
}

function step(s: RowState, sym: string): void {
  s.g = advance(s.g, sym);
  if (s.p) s.p = sym === MARK.in ? undefined : advance(s.p, sym);
}

/** Whether `prefix` can start a draft of the row (the judge checks a prompt's given symbols with it). */
export function fitsPrefix(r: MaskRow): boolean {
  try {
    start(r);
    return true;
  } catch {
    return false;
  }
}

/** One mask for a batch; `rows[i]` is the grammar of prompt i. Throws BudgetError on impossible budgets. */
export function grammarMask(vocab: Vocabulary, rows: readonly MaskRow[]): LogitMask {
  const states = rows.map(start);
  const none = new Uint8Array(vocab.size);
  return (row, generated) => {
    const s = states[row];
    if (!s || s.dead) return none;
    try {
      for (; s.seen < generated.length; s.seen++) step(s, vocab.symbol(generated[s.seen]!));
    } catch {
      // Unreachable when every token came through this mask; end the row rather than guess.
      s.dead = true;
      return none;
    }
    const allowed = new Uint8Array(vocab.size);
    const prog = s.p && allowedNext(s.p);
    for (const sym of allowedNext(s.g)) {
      if (s.p && prog && (sym === MARK.in ? !isComplete(s.p) : !prog.has(sym))) continue;
      allowed[vocab.id(sym)] = 1;
    }
    return allowed;
  };
}
