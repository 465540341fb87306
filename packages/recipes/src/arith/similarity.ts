/**
 * Repetition penalty, an approximation of R-Zero's batch clustering (cluster_share_per_problem).
 *
 * R-Zero: over the whole batch of challenger questions, d_ij = 1 − BLEU(ref q_j, hyp q_i)
 * (NLTK sentence_bleu, 4-gram uniform weights, smoothing method1, whitespace tokens),
 * agglomerative average-linkage clustering with distance threshold 0.5, pen_i = |cluster(i)|/N.
 *
 * spar judges one question per group, statelessly, so the "batch" is the question plus the K
 * recent valid questions of the task buffer that the proposer passed as references (carried in
 * the task). Clustering is replaced by a one-step neighbourhood: a reference is a near-duplicate
 * when BLEU(ref, question) > 0.5 (distance < R-Zero's threshold), and
 *   penalty = (near-duplicate references) / K            (0 when K = 0)
 * R-Zero's own-cluster share 1/N is dropped: it is the same for every question of a batch and
 * GRPO removes it, but with K varying (an empty buffer at the start) it would not be constant.
 * Tokens are lexemes (a literal is one token, each operator/parenthesis one), the analogue of
 * R-Zero's whitespace words for expressions written without spaces.
 */
import { isDigit } from './symbols.ts';

/** Split an expression into lexemes: maximal digit runs, and every other character alone. */
export function lexemes(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length;) {
    let j = i + 1;
    if (isDigit(text[i]!)) while (j < text.length && isDigit(text[j]!)) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join('\u0001');
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

const EPSILON = 0.1;

/**
 * Sentence BLEU of one hypothesis against one reference, as NLTK's sentence_bleu with the default
 * weights (¼ each for 1..4-grams) and SmoothingFunction().method1 (a zero clipped count becomes
 * ε = 0.1 over max(1, hypothesis n-grams)); 0 when no unigram matches; brevity penalty
 * exp(1 − r/c) for a hypothesis shorter than the reference.
 */
export function sentenceBleu(reference: readonly string[], hypothesis: readonly string[]): number {
  const c = hypothesis.length;
  if (c === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= 4; n++) {
    const hyp = ngrams(hypothesis, n);
    const ref = ngrams(reference, n);
    let clipped = 0;
    for (const [k, count] of hyp) clipped += Math.min(count, ref.get(k) ?? 0);
    const denom = Math.max(1, c - n + 1);
    if (n === 1 && clipped === 0) return 0;
    logSum += 0.25 * Math.log((clipped === 0 ? EPSILON : clipped) / denom);
  }
  const r = reference.length;
  const bp = c > r ? 1 : Math.exp(1 - r / c);
  return bp * Math.exp(logSum);
}

/** BLEU above this makes a reference a near-duplicate (R-Zero's distance threshold 0.5). */
export const NEAR_DUPLICATE_BLEU = 0.5;

export interface RepetitionResult {
  /** Fraction of references that are near-duplicates of the question, in [0, 1]. */
  readonly fraction: number;
  readonly nearDuplicates: number;
  readonly references: number;
}

/** Near-duplicate share of `question` among `references` (see the module comment). */
export function repetition(question: string, references: readonly string[]): RepetitionResult {
  if (references.length === 0) return { fraction: 0, nearDuplicates: 0, references: 0 };
  const hyp = lexemes(question);
  let dup = 0;
  for (const r of references) if (sentenceBleu(lexemes(r), hyp) > NEAR_DUPLICATE_BLEU) dup++;
  return { fraction: dup / references.length, nearDuplicates: dup, references: references.length };
}
