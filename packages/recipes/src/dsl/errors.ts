import { SparError } from '@spar/core';

/**
 * Typed errors of the program DSL. Every error has a stable `code` and typed fields. All of them
 * are deterministic: the same program, input and limits always raise the same error, so none is
 * worth retrying (a judge maps them to "invalid" / "wrong", never to "try again").
 */
export class DslError extends SparError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** A token sequence does not follow the grammar. `position` is the token index (= length at end of input). */
export class ParseError extends DslError {
  readonly position: number;
  /** Symbols that would have been accepted at `position` (END = end of input). */
  readonly expected: readonly string[];
  /** The offending token, or END when the input ended early. */
  readonly found: string;
  constructor(position: number, expected: readonly string[], found: string, detail?: string) {
    super('DSL_PARSE_ERROR', `at token ${position}: found ${JSON.stringify(found)}, expected one of ${expected.map((e) => JSON.stringify(e)).join(' ')}${detail ? ` (${detail})` : ''}`);
    this.position = position;
    this.expected = expected;
    this.found = found;
  }
}

/** A program, value, text or draft is larger than the fixed limits allow (checked before any work). */
export class SizeLimitError extends DslError {
  readonly what: string;
  readonly limit: number;
  readonly actual: number;
  constructor(what: string, limit: number, actual: number) {
    super('DSL_SIZE_LIMIT', `${what}: ${actual} exceeds the limit ${limit}`);
    this.what = what;
    this.limit = limit;
    this.actual = actual;
  }
}

/** Running a program needed more fuel than it was given. `used` never exceeds `fuel`. */
export class FuelExhaustedError extends DslError {
  readonly fuel: number;
  readonly used: number;
  readonly needed: number;
  constructor(fuel: number, used: number, needed: number) {
    super('DSL_FUEL_EXHAUSTED', `fuel exhausted: ${used} of ${fuel} used, next step needs ${needed}`);
    this.fuel = fuel;
    this.used = used;
    this.needed = needed;
  }
}

/** A runtime value left the value domain: an int with |v| > MAX_INT or a list longer than MAX_LIST_LEN. */
export class ValueOverflowError extends DslError {
  readonly kind: 'int' | 'list';
  readonly limit: number;
  readonly actual: number;
  constructor(kind: 'int' | 'list', limit: number, actual: number) {
    super('DSL_OVERFLOW', kind === 'int' ? `integer ${actual} outside ±${limit}` : `list length ${actual} exceeds ${limit}`);
    this.kind = kind;
    this.limit = limit;
    this.actual = actual;
  }
}

/** A JS value handed to the interpreter or printer is not a DSL value (non-integer, wrong type). */
export class InvalidValueError extends DslError {
  constructor(message: string) {
    super('DSL_INVALID_VALUE', message);
  }
}

/** The grammar mask was asked to advance by a symbol it does not allow in that state. */
export class DisallowedSymbolError extends DslError {
  readonly symbol: string;
  readonly allowed: readonly string[];
  constructor(symbol: string, allowed: readonly string[]) {
    super('DSL_MASK_DISALLOWED', `symbol ${JSON.stringify(symbol)} is not allowed here; allowed: ${allowed.join(' ') || '(none)'}`);
    this.symbol = symbol;
    this.allowed = allowed;
  }
}

/** A policy-written draft or answer is malformed; `section` says which part, `cause` holds the parse error. */
export class FormatError extends DslError {
  readonly section: string;
  constructor(section: string, cause: unknown) {
    super('DSL_FORMAT_ERROR', `${section}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.section = section;
    this.cause = cause;
  }
}

/** An AST (built by hand, not by the parser) breaks a typing or range rule of the grammar. */
export class InvalidProgramError extends DslError {
  readonly stage: number;
  constructor(stage: number, message: string) {
    super('DSL_INVALID_PROGRAM', `stage ${stage}: ${message}`);
    this.stage = stage;
  }
}

/** A grammar mask was started with a token budget too small to hold any complete sequence. */
export class BudgetError extends DslError {
  readonly maxTokens: number;
  readonly minimum: number;
  constructor(maxTokens: number, minimum: number) {
    super('DSL_BUDGET_TOO_SMALL', `maxTokens ${maxTokens} is below the shortest complete sequence (${minimum})`);
    this.maxTokens = maxTokens;
    this.minimum = minimum;
  }
}

/** The task generator found no valid, non-trivial task within its attempt budget. */
export class GeneratorExhaustedError extends DslError {
  readonly attempts: number;
  constructor(what: string, attempts: number) {
    super('DSL_GENERATOR_EXHAUSTED', `no valid ${what} after ${attempts} attempts`);
    this.attempts = attempts;
  }
}
