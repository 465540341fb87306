/**
 * Vocabulary and tokenizer shared by recipes, the learner and exported models.
 *
 * Token ids: the five fixed specials `<pad>`=0, `<bos>`=1, `<eos>`=2, `<sep>`=3, `<unk>`=4, then the
 * declared specials (role markers such as `<proposer>`), then the symbols, each in first-declared
 * order across the merged specs. A token is any non-empty string; specials and symbols tokenize
 * the same way and differ only in role.
 *
 * Tokenization algorithm ("greedy-longest-match"), to be reproduced by any port:
 *   position i = 0 (in UTF-16 code units; equivalently code points, since tokens are well formed)
 *   while i < len(text):
 *     among all tokens (specials and symbols) that occur in `text` starting at i, take the longest;
 *     if one exists: emit its id, i += its length
 *     else: emit `<unk>` (4) for the single character (code point) at i and skip it
 *       (strict mode: fail, naming that character and i)
 * No normalisation, case folding or whitespace handling is applied. Decoding concatenates the
 * tokens of the ids, so decode(encode(t)) === t whenever every character of t is covered
 * (encode(decode(ids)) may differ: ids for "<", "=" decode to "<=", which re-encodes as one id).
 *
 * The JSON form (`VocabularyJSON`) ships next to an exported ONNX model. Its `sha256` identifies
 * the token list: hex sha256 of the UTF-8 bytes of every special followed by NUL, then one more
 * NUL, then every symbol followed by NUL. In Python:
 *   hashlib.sha256(("".join(s + "\0" for s in specials) + "\0"
 *                   + "".join(s + "\0" for s in symbols)).encode()).hexdigest()
 */
import { createHash } from 'node:crypto';
import { ConfigError, PolicyError } from '../errors.ts';

export const FIXED_SPECIALS = ['<pad>', '<bos>', '<eos>', '<sep>', '<unk>'] as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const SEP_ID = 3;
export const UNK_ID = 4;
export const VOCAB_FORMAT = 'spar-vocab/1';
export const VOCAB_ALGORITHM = 'greedy-longest-match';

/** What a recipe declares: its alphabet (multi-character symbols allowed) and special tokens. */
export interface VocabularySpec {
  readonly symbols: readonly string[];
  readonly specials?: readonly string[];
}

export interface VocabularyJSON {
  readonly format: typeof VOCAB_FORMAT;
  readonly algorithm: typeof VOCAB_ALGORITHM;
  /** Tokens with ids 0 .. specials.length-1; starts with FIXED_SPECIALS. */
  readonly specials: string[];
  /** Tokens with ids specials.length .. size-1. */
  readonly symbols: string[];
  readonly sha256: string;
}

export interface EncodeOptions {
  /** Throw UnknownSymbolError instead of emitting `<unk>` for uncovered characters. */
  readonly strict?: boolean;
}

export interface Tokenizer {
  readonly size: number;
  encode(text: string, opts?: EncodeOptions): Int32Array;
  decode(ids: ArrayLike<number>): string;
  id(symbol: string): number;
  symbol(id: number): string;
  toJSON(): VocabularyJSON;
}

/** Text held a character no token covers (strict encode), or `id()` was asked for an unknown token. */
export class UnknownSymbolError extends PolicyError {
  /** The uncovered character, or the unknown token passed to `id()`. */
  readonly symbol: string;
  /** UTF-16 offset of the character in the encoded text; -1 for `id()` lookups. */
  readonly index: number;
  constructor(symbol: string, index: number) {
    const cp = symbol.codePointAt(0) ?? 0;
    const u = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    super('UNKNOWN_SYMBOL', index >= 0
      ? `no token covers character ${JSON.stringify(symbol)} (${u}) at index ${index}`
      : `unknown token ${JSON.stringify(symbol)}`);
    this.symbol = symbol;
    this.index = index;
  }
}

/** An id outside [0, size) (or not an integer) was passed to `decode()` or `symbol()`. */
export class UnknownTokenIdError extends PolicyError {
  readonly id: number;
  /** Position of the id in the decoded sequence; -1 for `symbol()` lookups. */
  readonly index: number;
  constructor(id: number, size: number, index: number) {
    super('UNKNOWN_TOKEN_ID', `token id ${id}${index >= 0 ? ` at position ${index}` : ''} is not in [0, ${size})`);
    this.id = id;
    this.index = index;
  }
}

type Issue = { path: string; message: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function tokenProblem(t: unknown): string | undefined {
  if (typeof t !== 'string') return `must be a string, got ${JSON.stringify(t) ?? typeof t}`;
  if (t.length === 0) return 'empty token';
  if (t.includes('\0')) return 'contains U+0000 (reserved as the hash separator)';
  if (LONE_SURROGATE.test(t)) return 'contains a lone surrogate (not well-formed Unicode)';
  return undefined;
}

/** Identity of a token list; see the module comment for the exact definition. */
export function vocabularyHash(specials: readonly string[], symbols: readonly string[]): string {
  const h = createHash('sha256');
  for (const s of specials) h.update(`${s}\0`, 'utf8');
  h.update('\0', 'utf8');
  for (const s of symbols) h.update(`${s}\0`, 'utf8');
  return h.digest('hex');
}

interface TrieNode {
  readonly next: Map<number, TrieNode>;
  id: number;
}

export class Vocabulary implements Tokenizer {
  readonly size: number;
  /** Number of special tokens (ids 0 .. specialCount-1), fixed ones included. */
  readonly specialCount: number;
  readonly sha256: string;
  private readonly tokens: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;
  private readonly trie: TrieNode = { next: new Map(), id: -1 };

  private constructor(specials: readonly string[], symbols: readonly string[]) {
    this.tokens = Object.freeze([...specials, ...symbols]);
    this.size = this.tokens.length;
    this.specialCount = specials.length;
    this.sha256 = vocabularyHash(specials, symbols);
    this.ids = new Map(this.tokens.map((t, i) => [t, i]));
    this.tokens.forEach((t, id) => {
      let node = this.trie;
      for (let k = 0; k < t.length; k++) {
        const c = t.charCodeAt(k);
        let child = node.next.get(c);
        if (!child) node.next.set(c, (child = { next: new Map(), id: -1 }));
        node = child;
      }
      node.id = id;
    });
  }

  /**
   * Merge recipe specs: fixed specials, then declared specials, then symbols, deduplicated in
   * first-declared order. A token declared as a special in one place and a symbol in another is
   * a ConfigError, as are empty/invalid tokens and a vocabulary without symbols.
   */
  static create(specs: readonly VocabularySpec[]): Vocabulary {
    const issues: Issue[] = [];
    if (!Array.isArray(specs) || specs.length === 0) throw new ConfigError('vocabulary specs', [{ path: '/', message: 'at least one spec is required' }]);
    const role = new Map<string, { kind: 'special' | 'symbol'; path: string }>();
    FIXED_SPECIALS.forEach((s, i) => role.set(s, { kind: 'special', path: `(fixed special ${i})` }));
    const specials: string[] = [...FIXED_SPECIALS];
    const symbols: string[] = [];
    const add = (t: unknown, kind: 'special' | 'symbol', path: string) => {
      const problem = tokenProblem(t);
      if (problem) return void issues.push({ path, message: problem });
      const s = t as string;
      const seen = role.get(s);
      if (seen && seen.kind !== kind) {
        return void issues.push({ path, message: `${JSON.stringify(s)} is declared as a ${kind} here but as a ${seen.kind} at ${seen.path}` });
      }
      if (seen) return;
      role.set(s, { kind, path });
      (kind === 'special' ? specials : symbols).push(s);
    };
    specs.forEach((spec, i) => {
      const at = `/${i}`;
      if (typeof spec !== 'object' || spec === null) return void issues.push({ path: at, message: 'must be an object' });
      const extra = Object.keys(spec).filter((k) => k !== 'symbols' && k !== 'specials');
      if (extra.length) issues.push({ path: at, message: `unknown key(s) ${extra.join(', ')}` });
      if (!Array.isArray(spec.symbols)) return void issues.push({ path: `${at}/symbols`, message: 'must be an array of strings' });
      if (spec.specials !== undefined && !Array.isArray(spec.specials)) return void issues.push({ path: `${at}/specials`, message: 'must be an array of strings' });
      if (spec.symbols.length === 0 && !spec.specials?.length) issues.push({ path: at, message: 'declares no symbols and no specials' });
      (spec.specials ?? []).forEach((s: unknown, j: number) => add(s, 'special', `${at}/specials/${j}`));
    });
    specs.forEach((spec, i) => {
      const declared: readonly unknown[] | undefined = spec?.symbols;
      if (Array.isArray(declared)) declared.forEach((s: unknown, j: number) => add(s, 'symbol', `/${i}/symbols/${j}`));
    });
    if (issues.length === 0 && symbols.length === 0) issues.push({ path: '/', message: 'no symbols declared' });
    if (issues.length) throw new ConfigError('vocabulary specs', issues);
    return new Vocabulary(specials, symbols);
  }

  /** Rebuild from `toJSON()` output, verifying the format tag, the fixed specials and the sha256. */
  static fromJSON(json: unknown): Vocabulary {
    const fail = (path: string, message: string): never => {
      throw new ConfigError('vocabulary JSON', [{ path, message }]);
    };
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('/', 'must be an object');
    const j = json as Record<string, unknown>;
    const extra = Object.keys(j).filter((k) => !['format', 'algorithm', 'specials', 'symbols', 'sha256'].includes(k));
    if (extra.length) fail('/', `unknown key(s) ${extra.join(', ')}`);
    if (j.format !== VOCAB_FORMAT) fail('/format', `${JSON.stringify(j.format)} is not ${JSON.stringify(VOCAB_FORMAT)}`);
    if (j.algorithm !== VOCAB_ALGORITHM) fail('/algorithm', `${JSON.stringify(j.algorithm)} is not ${JSON.stringify(VOCAB_ALGORITHM)}`);
    if (!Array.isArray(j.specials)) return fail('/specials', 'must be an array of strings');
    if (!Array.isArray(j.symbols)) return fail('/symbols', 'must be an array of strings');
    const specials = j.specials as unknown[];
    const symbols = j.symbols as unknown[];
    FIXED_SPECIALS.forEach((s, i) => {
      if (specials[i] !== s) fail(`/specials/${i}`, `must be ${JSON.stringify(s)}`);
    });
    if (symbols.length === 0) fail('/symbols', 'no symbols');
    const seen = new Map<string, string>();
    const check = (t: unknown, path: string) => {
      const problem = tokenProblem(t);
      if (problem) fail(path, problem);
      const first = seen.get(t as string);
      if (first) fail(path, `duplicate of ${first}`);
      seen.set(t as string, path);
    };
    specials.forEach((t, i) => check(t, `/specials/${i}`));
    symbols.forEach((t, i) => check(t, `/symbols/${i}`));
    const vocab = new Vocabulary(specials as string[], symbols as string[]);
    if (j.sha256 !== vocab.sha256) fail('/sha256', `${JSON.stringify(j.sha256)} does not match the token list (${vocab.sha256})`);
    return vocab;
  }

  /** Greedy longest-match tokenization (see the module comment). */
  encode(text: string, opts: EncodeOptions = {}): Int32Array {
    const out = new Int32Array(text.length);
    let n = 0;
    let i = 0;
    while (i < text.length) {
      let node: TrieNode | undefined = this.trie;
      let best = -1;
      let bestEnd = i;
      for (let j = i; j < text.length; j++) {
        node = node.next.get(text.charCodeAt(j));
        if (!node) break;
        if (node.id >= 0) {
          best = node.id;
          bestEnd = j + 1;
        }
      }
      if (best >= 0) {
        out[n++] = best;
        i = bestEnd;
        continue;
      }
      const cp = text.codePointAt(i)!;
      if (opts.strict) throw new UnknownSymbolError(String.fromCodePoint(cp), i);
      out[n++] = UNK_ID;
      i += cp > 0xffff ? 2 : 1;
    }
    return out.slice(0, n);
  }

  /** Concatenate the tokens of `ids`; an id outside [0, size) throws UnknownTokenIdError. */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = new Array(ids.length);
    for (let k = 0; k < ids.length; k++) parts[k] = this.tokenAt(ids[k]!, k);
    return parts.join('');
  }

  /** Id of a token (special or symbol); unknown tokens throw UnknownSymbolError. */
  id(symbol: string): number {
    const id = this.ids.get(symbol);
    if (id === undefined) throw new UnknownSymbolError(symbol, -1);
    return id;
  }

  has(symbol: string): boolean {
    return this.ids.has(symbol);
  }

  /** Token of an id; ids outside [0, size) throw UnknownTokenIdError. */
  symbol(id: number): string {
    return this.tokenAt(id, -1);
  }

  isSpecial(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.specialCount;
  }

  toJSON(): VocabularyJSON {
    return {
      format: VOCAB_FORMAT,
      algorithm: VOCAB_ALGORITHM,
      specials: this.tokens.slice(0, this.specialCount),
      symbols: this.tokens.slice(this.specialCount),
      sha256: this.sha256,
    };
  }

  private tokenAt(id: number, index: number): string {
    const t = Number.isInteger(id) && id >= 0 ? this.tokens[id] : undefined;
    if (t === undefined) throw new UnknownTokenIdError(id, this.size, index);
    return t;
  }
}
