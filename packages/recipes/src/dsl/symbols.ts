/**
 * The fixed token set of the program DSL (absolute-zero and rlvr-fixed recipes).
 *
 * Programs are typed, point-free pipelines over ONE input `x` (an int list). Grammar (EBNF; every
 * terminal is one whitespace-separated token from DSL_SYMBOLS):
 *
 *   program   = stage { "|" stage }                     (1..MAX_STAGES=8 stages, ≤ 32 tokens)
 *   stage     = list→list:  "map" fn | "filter" pred | "reverse" | "sort"
 *                           | "take" digit | "drop" digit
 *             | list→int:   "sum" | "len" | "max" | "min" | "head" | "last"
 *             | int→int:    fn
 *   fn        = ( "+" | "-" | "*" ) digit | ( "/" | "%" ) nzdigit
 *   pred      = ( "gt" | "lt" | "eq" ) digit | "even" | "odd"
 *   digit     = "0" | nzdigit ;     nzdigit = "1" | … | "9"
 *
 * Typing: the pipeline starts with type list (x); each stage must accept the current type, and
 * the program's result type is the last stage's output type (int or list). So `map` etc. only
 * follow list-typed stages and a bare `fn` stage only follows an int-typed one:
 *   `map * 2 | filter gt 5 | sum | % 7`      `sort | reverse | take 3`
 *
 * Values (inputs, outputs, answers) use the same tokens:
 *
 *   value     = int | list
 *   list      = "[" [ int { "," int } ] "]"               (≤ MAX_LIST_LEN=32 elements)
 *   int       = [ "-" ] nat                                  (|int| ≤ 999999, no "- 0")
 *   nat       = "0" | nzdigit { digit }                      (≤ 6 digits, no leading zero)
 *   input     = "[" [ digit { "," digit } ] "]"              (≤ INPUT_MAX_LEN=8 elements)
 *
 * e.g. `[ 3 , 1 , 4 ]`, `[ ]`, `- 1 2` (= -12), `7 2` (= 72). Inputs `x` are lists of length
 * 0..8 with elements 0..9. Only the canonical form parses (no leading zeros, no "- 0"), so a value
 * has exactly one token sequence.
 *
 * The symbol set is prefix-free (no symbol is a prefix of another symbol or special), so a
 * greedy-longest-match tokenizer recovers the symbol sequence even from the concatenated text.
 */
import { MAX_TEXT_CHARS } from './limits.ts';
import { SizeLimitError } from './errors.ts';

export const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
export const NONZERO_DIGITS = DIGITS.slice(1);
export const LIST_TO_LIST = ['map', 'filter', 'reverse', 'sort', 'take', 'drop'] as const;
export const LIST_TO_INT = ['sum', 'len', 'max', 'min', 'head', 'last'] as const;
export const FN_OPS = ['+', '-', '*', '/', '%'] as const;
export const PRED_OPS = ['gt', 'lt', 'eq', 'even', 'odd'] as const;
export const PIPE = '|';
export const LBRACK = '[';
export const RBRACK = ']';
export const COMMA = ',';
export const MINUS = '-';

/** Every DSL symbol, in a fixed order (a tokenizer maps each to one id). 36 symbols. */
export const DSL_SYMBOLS: readonly string[] = Object.freeze([
  ...DIGITS, MINUS, LBRACK, RBRACK, COMMA, PIPE,
  ...LIST_TO_LIST, ...LIST_TO_INT,
  '+', '*', '/', '%',
  ...PRED_OPS,
]);

/**
 * Marker tokens of the prompt / answer formats (format.ts). They are specials, not DSL symbols:
 * they never occur inside a program or value.
 */
export const MARK = Object.freeze({
  deduce: '<deduce>', abduce: '<abduce>', induce: '<induce>', propose: '<propose>',
  ref: '<ref>', prog: '<prog>', in: '<in>', out: '<out>',
} as const);
export const DSL_SPECIALS: readonly string[] = Object.freeze(Object.values(MARK));

/** End marker; the same string as the policy vocabulary's fixed `<eos>` special. */
export const END = '<eos>';

const SYMBOL_SET: ReadonlySet<string> = new Set(DSL_SYMBOLS);
export function isDslSymbol(t: string): boolean {
  return SYMBOL_SET.has(t);
}

/** Split text on whitespace. Rejects texts longer than MAX_TEXT_CHARS before splitting. */
export function tokenize(text: string): string[] {
  if (text.length > MAX_TEXT_CHARS) throw new SizeLimitError('text characters', MAX_TEXT_CHARS, text.length);
  return text.split(/\s+/).filter((t) => t.length > 0);
}

/** Join tokens with single spaces (the canonical text form). */
export function detokenize(tokens: readonly string[]): string {
  return tokens.join(' ');
}
