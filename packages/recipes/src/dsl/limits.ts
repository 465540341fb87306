/**
 * Fixed size limits of the DSL. Every limit is checked before work proportional to the input is
 * done, so adversarial programs, values and texts are rejected in time linear in the limit, not
 * in their own size.
 */

/** Largest integer magnitude a value may hold: |v| ≤ 999999 (at most 6 digit tokens). */
export const MAX_INT = 999_999;
export const MAX_INT_DIGITS = 6;
/** Longest list a value may hold. */
export const MAX_LIST_LEN = 32;

/** Program inputs `x`: lists of length 0..8 with elements 0..9 (each one digit token). */
export const INPUT_MAX_LEN = 8;
export const INPUT_MAX_ELEM = 9;

/** Most pipeline stages in a program. */
export const MAX_STAGES = 8;
/** Most tokens in a program: 8 stages of at most 3 tokens plus 7 `|` = 31. */
export const MAX_PROGRAM_TOKENS = 32;
/** Most tokens in a printed value: `[`, 32 elements of ≤ 7 tokens, 31 `,`, `]`. */
export const MAX_VALUE_TOKENS = 2 + MAX_LIST_LEN * (1 + MAX_INT_DIGITS) + (MAX_LIST_LEN - 1);
/** Most tokens in a printed input: `[`, 8 digits, 7 `,`, `]`. */
export const MAX_INPUT_TOKENS = 2 + INPUT_MAX_LEN + (INPUT_MAX_LEN - 1);
/** Most inputs a proposer's draft may carry (induction uses several). */
export const MAX_DRAFT_INPUTS = 8;
/** Most tokens in a draft: program, then per input `<in>` and the input. */
export const MAX_DRAFT_TOKENS = MAX_PROGRAM_TOKENS + MAX_DRAFT_INPUTS * (1 + MAX_INPUT_TOKENS);
/** Longest text `tokenize` accepts (characters), far above any well-formed sequence. */
export const MAX_TEXT_CHARS = 16_384;

/**
 * Default fuel per run. Cost model (interpreter.ts): each stage costs 1 plus the length of the
 * list it reads (sort: 1 + n·⌈log2(n+1)⌉). Programs within MAX_STAGES on inputs within the input
 * domain need at most 8 · (1 + 8·4) = 264, so the default never binds on valid inputs; it bounds
 * runs on values up to MAX_LIST_LEN and can be lowered by the caller.
 */
export const DEFAULT_FUEL = 1_000;
