// The pure half of `npm run bench:majority` (bench/majority.ts): p̂ buckets, per-difficulty and
// per-bucket aggregates, and the markdown table. No I/O, no policy: unit-tested in
// tests/majority-table.test.ts.

/** One measured question: G sampled answers, their majority vote and how it compares with the truth. */
export interface Outcome {
  /** Question size: binary operators. */
  readonly d: number;
  /** Majority fraction p̂ = votes for the label / G (malformed answers in the denominator). */
  readonly p: number;
  /** The majority label equals the true answer (false when there is no label). */
  readonly right: boolean;
  /** p̂ in the informative band (R-Zero's filter). */
  readonly informative: boolean;
  /** Fraction of the G answers equal to the true answer. */
  readonly trueAccuracy: number;
}

/** Slack at bucket and band edges, so k/G exactly on an edge lands where the name says. */
const EPS = 1e-9;

/** p̂ buckets, in order: [0, 0.3), [0.3, 0.5), [0.5, 0.7], (0.7, 0.9), [0.9, 1.0]. */
export const BUCKETS = [
  { name: '[0,0.3)', has: (p: number) => p < 0.3 - EPS },
  { name: '[0.3,0.5)', has: (p: number) => p >= 0.3 - EPS && p < 0.5 - EPS },
  { name: '[0.5,0.7]', has: (p: number) => p >= 0.5 - EPS && p <= 0.7 + EPS },
  { name: '(0.7,0.9)', has: (p: number) => p > 0.7 + EPS && p < 0.9 - EPS },
  { name: '[0.9,1]', has: (p: number) => p >= 0.9 - EPS },
] as const;
export type BucketName = (typeof BUCKETS)[number]['name'];

/**
 * Aggregate bands: R-Zero-style kept ranges of p̂. [0.3,0.7] was spar's earlier default band
 * (|p̂ − ½| ≤ 0.2); [0.3,0.8] is the range the R-Zero paper keeps.
 */
export const BANDS = [
  { name: '[0.3,0.7]', lo: 0.3, hi: 0.7 },
  { name: '[0.3,0.8]', lo: 0.3, hi: 0.8 },
] as const;

export function bucketOf(p: number): BucketName {
  if (!(p >= 0 && p <= 1 + EPS)) throw new RangeError(`p̂ must be in [0, 1], got ${p}`);
  return BUCKETS.find((b) => b.has(p))!.name;
}

export const inBand = (p: number, band: { lo: number; hi: number }): boolean => p >= band.lo - EPS && p <= band.hi + EPS;

const round = (v: number) => +v.toFixed(4);
/** right / n, or null for an empty cell. */
const rate = (right: number, n: number): number | null => (n ? round(right / n) : null);

export interface Cell {
  readonly n: number;
  /** Questions whose majority label is the true answer. */
  readonly right: number;
  /** right / n (null when n is 0). */
  readonly majorityRight: number | null;
}

export interface DifficultyRow extends Cell {
  readonly d: number;
  /** Mean over questions of the fraction of the G answers that are true. */
  readonly trueAccuracy: number | null;
  /** Questions with an informative p̂, and their share of n. */
  readonly informative: number;
  readonly informativeShare: number | null;
  /** majorityRight among the informative questions only (null when none). */
  readonly majorityRightInformative: number | null;
  /** The BANDS aggregates within this difficulty. */
  readonly bands: (Cell & { readonly band: string })[];
}

export interface MajoritySummary {
  readonly questions: number;
  /** Mean true accuracy of the sampled answers over every question (null when none). */
  readonly trueAccuracy: number | null;
  readonly byBucket: (Cell & { readonly p: BucketName })[];
  readonly byDifficulty: DifficultyRow[];
  readonly bands: (Cell & { readonly band: string })[];
  /** Every difficulty × bucket cell, empty ones included (n 0, majorityRight null). */
  readonly table: (Cell & { readonly d: number; readonly bucket: BucketName })[];
}

function cell(outs: readonly Outcome[]): Cell {
  const right = outs.filter((o) => o.right).length;
  return { n: outs.length, right, majorityRight: rate(right, outs.length) };
}

const meanTrue = (outs: readonly Outcome[]) => (outs.length ? round(outs.reduce((s, o) => s + o.trueAccuracy, 0) / outs.length) : null);
const bandsOf = (outs: readonly Outcome[]) => BANDS.map((band) => ({ band: band.name, ...cell(outs.filter((o) => inBand(o.p, band))) }));

/**
 * The bench's aggregates. `difficulties` fixes the row order (and keeps rows with no questions);
 * by default the sorted difficulties present in `outcomes`.
 */
export function summarise(outcomes: readonly Outcome[], difficulties?: readonly number[]): MajoritySummary {
  const ds = difficulties ?? [...new Set(outcomes.map((o) => o.d))].sort((a, b) => a - b);
  const bucketed = outcomes.map((o) => ({ o, b: bucketOf(o.p) }));
  return {
    questions: outcomes.length,
    trueAccuracy: meanTrue(outcomes),
    byBucket: BUCKETS.map(({ name }) => ({ p: name, ...cell(bucketed.filter((x) => x.b === name).map((x) => x.o)) })),
    byDifficulty: ds.map((d) => {
      const outs = outcomes.filter((o) => o.d === d);
      const inf = outs.filter((o) => o.informative);
      return {
        d, ...cell(outs),
        trueAccuracy: meanTrue(outs),
        informative: inf.length,
        informativeShare: rate(inf.length, outs.length),
        majorityRightInformative: cell(inf).majorityRight,
        bands: bandsOf(outs),
      };
    }),
    bands: bandsOf(outcomes),
    table: ds.flatMap((d) => BUCKETS.map(({ name }) => ({ d, bucket: name, ...cell(bucketed.filter((x) => x.o.d === d && x.b === name).map((x) => x.o)) }))),
  };
}

const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v * 100)} %`);

/**
 * Markdown: one row per difficulty, one column per p̂ bucket, each cell "right/n" (majority label
 * right / questions in the cell), then the row's totals, the [0.3,0.7] and [0.3,0.8] bands, and
 * the mean true accuracy of the sampled answers; a final "all" row.
 */
export function markdownTable(s: MajoritySummary): string {
  const frac = (c: Cell) => `${c.right}/${c.n}`;
  const head = ['ops', ...BUCKETS.map((b) => `p̂ ${b.name}`), 'all', ...BANDS.map((b) => `p̂ ${b.name}`), 'true acc.'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of s.byDifficulty) {
    const cells = s.table.filter((c) => c.d === row.d).map(frac);
    lines.push(`| ${row.d} | ${cells.join(' | ')} | ${frac(row)} | ${row.bands.map(frac).join(' | ')} | ${pct(row.trueAccuracy)} |`);
  }
  const right = s.byBucket.reduce((a, c) => a + c.right, 0);
  lines.push(`| all | ${s.byBucket.map(frac).join(' | ')} | ${right}/${s.questions} | ${s.bands.map(frac).join(' | ')} | ${pct(s.trueAccuracy)} |`);
  return lines.join('\n');
}
