import { Type, type Static } from '@sinclair/typebox';
import { Value as SchemaValue } from '@sinclair/typebox/value';
import { ConfigError } from '../errors.ts';

/**
 * Outcome-reward advantage estimators (one scalar reward per sequence; the loss broadcasts the
 * per-sequence advantage over that sequence's tokens). Formulas: shared/research/algorithms.md
 * sections 2-4 (verl), 8 (Absolute Zero TRR++), 9-10 (SPIRAL / prime-rl RAE).
 *
 * Semantics chosen here (where the reference codes disagree or leave it open):
 * - grpo: (s - mean_G) / (std_G + eps), unbiased std, eps 1e-6 (verl). drgrpo: s - mean_G.
 *   rloo: s - mean of the other rows of G.
 * - reinforce++ / trr++: (s - mu) / sqrt(var + eps), eps 1e-8, var unbiased, over all rows
 *   (reinforce++) or per segment (trr++). The statistics are SEQUENCE-weighted: every sequence
 *   counts once. verl's masked_whiten is token-weighted, so long answers dominate mu and sigma
 *   (verl PR #6497); we avoid that bias on purpose, so results differ from verl when lengths vary.
 * - Zero variance: a group / segment whose rewards are all exactly equal (as float32), and every
 *   singleton, gets advantage 0 ('zero'), or 0 plus keep = 0 ('drop'). This departs from verl,
 *   where a singleton leaks its raw score (grpo: s/(1+eps), rloo: s) and a one-row REINFORCE++
 *   batch raises. `zeroVarianceGroups` counts groups, not rows.
 * - rae: A = R - b_prev, then b = decay b + (1 - decay) R per key, b starting at 0; rows are
 *   processed in batch order (see buildRaeGraph). It has no zero-variance rule (no groups).
 * - trr++ with `decay` d (0 < d < 1): running per-segment statistics across learner steps, so a
 *   segment with few, equal rewards in one batch still gets a baseline. Without `decay` trr++ is
 *   the stateless per-batch whitening above, unchanged. With it the estimator is stateful: the
 *   state is 3K float32 (K = numKeys segment slots, the segment index of a row is its slot) laid
 *   out as [W_0..W_K-1, S1_0..S1_K-1, S2_0..S2_K-1], the decayed sums of row weights, rewards
 *   and squared rewards over previous calls (one call = one learner step), all 0 initially.
 *   Per segment k with n_k valid rows in the batch, reward sums s1, s2 (each row = one sequence
 *   counts 1; padding counts 0):
 *     W = d W_k + n_k,  M1 = d S1_k + s1,  M2 = d S2_k + s2,
 *     mu = M1 / W,  var = max(0, M2 / W - mu^2)  (biased: divided by W, not W - 1),
 *     A_i = (r_i - mu) / sqrt(var + eps) for the rows of k.
 *   Zero-variance rule: a segment with rows whose var < 1e-6 (after combining the history) gets
 *   A = 0 (keep = 0 under 'drop') and counts in zeroVarianceGroups; it is a threshold, not the
 *   exact equality above, because var comes from float32 sums. A segment without rows in the
 *   batch only decays (W = d W_k, ...). The state out is (W, M1, M2). With an all-zero state and
 *   one batch this is per-batch whitening with the BIASED variance (n, not n - 1), so its first
 *   step differs from stateless trr++ by sqrt((n - 1) / n).
 *   Precision: var is M2/W - mu^2 from float32 sums, so a constant segment's var is rounding
 *   noise that grows with r^2 and with W (about n / (1 - d)), while the 1e-6 threshold is
 *   absolute. Measured with constant non-dyadic rewards over 1500 steps of up to 128 rows: at
 *   d = 0.9 every step was detected for |r| <= 1.2 (|r| = 2.3 was missed in about 1/3 of 200
 *   steps of up to 13 rows); at d = 0.99 / 0.999 even |r| <= 1 was missed in up to 1.6% / 14%
 *   of steps. A missed constant segment gets |A| < 1e-3 of noise instead of 0 (and is not
 *   dropped or counted).
 */
export const ESTIMATOR_KINDS = ['grpo', 'drgrpo', 'rloo', 'reinforce++', 'trr++', 'rae'] as const;
export type EstimatorKind = (typeof ESTIMATOR_KINDS)[number];

/** What to do with a group (or segment) whose rewards are all equal, singletons included. */
export type ZeroVarianceRule = 'zero' | 'drop';

export const EstimatorSpecSchema = Type.Object(
  {
    kind: Type.Union(ESTIMATOR_KINDS.map((k) => Type.Literal(k))),
    /** 'zero': advantage 0. 'drop': advantage 0 and keep = 0, so the learner skips the rows. */
    zeroVariance: Type.Optional(Type.Union([Type.Literal('zero'), Type.Literal('drop')])),
    /** grpo: added to the std (default 1e-6); reinforce++ / trr++: added to the variance (1e-8). */
    eps: Type.Optional(Type.Number({ minimum: 0 })),
    /** rae: EMA decay of the per-key baseline (default 0.95). trr++: decay of the running segment statistics (unset: per-batch, stateless). */
    decay: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    /**
     * rae: number of baseline slots, i.e. (environment, role) keys (default 2: SPIRAL's two players).
     * trr++ with decay: number of segment slots (default 2); only with decay.
     */
    numKeys: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536 })),
  },
  { additionalProperties: false },
);

export type EstimatorSpec = Static<typeof EstimatorSpecSchema>;

/** A validated spec with every field applicable to its kind filled in; frozen. */
export interface ResolvedSpec {
  readonly kind: EstimatorKind;
  readonly zeroVariance: ZeroVarianceRule;
  /** 0 for kinds that take no epsilon. */
  readonly eps: number;
  /** rae: the baseline EMA decay; trr++: the running-statistics decay, 0 = stateless; 0 otherwise. */
  readonly decay: number;
  /** rae and trr++ with decay: the number of state slots; 0 for the other kinds. */
  readonly numKeys: number;
}

type Field = 'zeroVariance' | 'eps' | 'decay' | 'numKeys';

/** The optional fields each kind accepts; any other field is a configuration mistake. */
const APPLICABLE: Record<EstimatorKind, readonly Field[]> = {
  grpo: ['zeroVariance', 'eps'],
  drgrpo: ['zeroVariance'],
  rloo: ['zeroVariance'],
  'reinforce++': ['zeroVariance', 'eps'],
  'trr++': ['zeroVariance', 'eps', 'decay', 'numKeys'],
  rae: ['decay', 'numKeys'],
};

/** verl: epsilon 1e-6 on the GRPO std; masked_whiten adds 1e-8 to the variance. */
const DEFAULT_EPS: Partial<Record<EstimatorKind, number>> = { grpo: 1e-6, 'reinforce++': 1e-8, 'trr++': 1e-8 };
export const DEFAULT_DECAY = 0.95;
export const DEFAULT_NUM_KEYS = 2;
/** trr++ with decay: a segment whose combined variance is below this is zero-variance. */
export const RUNNING_ZERO_VARIANCE = 1e-6;

/**
 * Validate an estimator spec. Unknown fields, fields that do not apply to the kind (e.g. `decay`
 * for grpo, `eps` for rloo) and out-of-range values all raise one ConfigError listing every issue.
 */
export function resolveSpec(spec: unknown): ResolvedSpec {
  const issues = [...SchemaValue.Errors(EstimatorSpecSchema, spec)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length) throw new ConfigError('estimator spec', issues);
  const s = spec as EstimatorSpec;
  const allowed = APPLICABLE[s.kind];
  for (const f of ['zeroVariance', 'eps', 'decay', 'numKeys'] as const) {
    if (s[f] !== undefined && !allowed.includes(f)) issues.push({ path: `/${f}`, message: `not applicable to kind '${s.kind}'` });
  }
  if (s.kind === 'trr++' && s.numKeys !== undefined && s.decay === undefined) {
    issues.push({ path: '/numKeys', message: "trr++ takes numKeys only with decay (the running statistics' segment slots)" });
  }
  if (issues.length) throw new ConfigError('estimator spec', issues);
  const stateful = isStateful(s);
  return Object.freeze({
    kind: s.kind,
    zeroVariance: s.zeroVariance ?? 'zero',
    eps: s.eps ?? DEFAULT_EPS[s.kind] ?? 0,
    decay: s.kind === 'rae' ? (s.decay ?? DEFAULT_DECAY) : (s.decay ?? 0),
    numKeys: stateful ? (s.numKeys ?? DEFAULT_NUM_KEYS) : 0,
  });
}

/**
 * Whether the estimator carries state from one call (learner step) to the next: rae, and trr++
 * with decay. The caller keeps that state (initialState(), then each result's `state`), gives
 * it numKeys slots (the learner: one per recipe segment) and checkpoints it.
 */
export function isStateful(spec: Pick<EstimatorSpec, 'kind' | 'decay'>): boolean {
  return spec.kind === 'rae' || (spec.kind === 'trr++' && (spec.decay ?? 0) > 0);
}
