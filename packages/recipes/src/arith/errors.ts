import { SparError } from '@spar/core';

/**
 * Typed errors of the arithmetic recipe. All are deterministic (same input, same error), so none
 * is worth retrying: a judge maps ArithError to "invalid task" and TaskRejected (../errors.ts) to a
 * rejected rollout group.
 */
export type ArithErrorCode =
  | 'too_long' | 'too_deep' | 'syntax' | 'bad_literal' | 'out_of_bounds' | 'no_operator' | 'answer_too_long' | 'too_many_operators' | 'literal_too_long' | 'operator_not_allowed'
  | 'bad_task' | 'bad_references';

/** A question (or task) is not a valid r-zero question; `reason` is `${code}: ${detail}`. */
export class ArithError extends SparError {
  declare readonly code: ArithErrorCode;
  /** Character index where the problem was found (-1 when not positional). */
  readonly position: number;
  constructor(code: ArithErrorCode, message: string, position = -1) {
    super(code, `${code}: ${message}`);
    this.position = position;
  }
}


/** A symbol the grammar mask does not allow in this state. */
export class DisallowedSymbolError extends SparError {
  readonly symbol: string;
  readonly allowed: readonly string[];
  constructor(symbol: string, allowed: readonly string[]) {
    super('ARITH_DISALLOWED_SYMBOL', `symbol ${JSON.stringify(symbol)} not allowed here (allowed: ${allowed.map((s) => JSON.stringify(s)).join(' ') || 'none'})`);
    this.symbol = symbol;
    this.allowed = allowed;
  }
}

/** A grammar budget too small for the shortest complete sequence. */
export class BudgetError extends SparError {
  constructor(readonly maxTokens: number, readonly minTokens: number) {
    super('ARITH_BUDGET', `token budget ${maxTokens} is below the shortest complete sequence (${minTokens})`);
  }
}
