/**
 * Alphabet and structural limits of the r-zero arithmetic language.
 *
 * Every symbol is a single character, so "tokens" and "characters" are the same count. A question
 * is an integer expression over non-negative literals, binary `+ - *` and parentheses; an answer
 * is an integer with an optional leading `-`. The end of a generation is the vocabulary's `<eos>`.
 */
export const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
export const NONZERO_DIGITS = DIGITS.slice(1);
export const OPERATORS = ['+', '-', '*'] as const;
export type Op = (typeof OPERATORS)[number];
export const LPAREN = '(';
export const RPAREN = ')';
/** Binary minus in questions, sign of a negative answer. */
export const MINUS = '-';

/** Every symbol a question or an answer is written with (vocabulary order). */
export const ARITH_SYMBOLS: readonly string[] = Object.freeze([...DIGITS, ...OPERATORS, LPAREN, RPAREN]);

/** Role markers: `<challenge>` starts a challenger prompt, `<q>` a question, `<a>` the answer slot. */
export const MARK = Object.freeze({ challenge: '<challenge>', question: '<q>', answer: '<a>' });
export const ARITH_SPECIALS: readonly string[] = Object.freeze([MARK.challenge, MARK.question, MARK.answer]);

/** The grammar masks' name for `<eos>`. */
export const END = '<eos>';

/** |value| of every literal, intermediate and result is at most this (else the question is invalid). */
export const VALUE_BOUND = 1_000_000_000;
/** Hard ceilings on the options (the schema's maxima; also what the parser enforces by default). */
export const MAX_QUESTION_TOKENS = 64;
export const MAX_DEPTH = 16;
/** 10 digits write any |value| ≤ VALUE_BOUND. */
export const MAX_ANSWER_DIGITS = 10;
/** Digits per literal the question mask allows (the parser accepts any literal ≤ VALUE_BOUND). */
export const MASK_LITERAL_DIGITS = 3;
/** References (recent questions) a task carries for the repetition penalty. */
export const MAX_REFERENCES = 16;

export const isDigit = (c: string): boolean => c.length === 1 && c >= '0' && c <= '9';
export const isOperator = (c: string): c is Op => c === '+' || c === '-' || c === '*';
