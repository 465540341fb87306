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
    /** rae: EMA decay of the per-key baseline (default 0.95). */
    decay: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    /** rae: number of baseline slots, i.e. (environment, role) keys (default 2: SPIRAL's two players). */
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
  /** Only meaningful for rae. */
  readonly decay: number;
  /** Only meaningful for rae; 0 for the other kinds. */
  readonly numKeys: number;
}

type Field = 'zeroVariance' | 'eps' | 'decay' | 'numKeys';

/** The optional fields each kind accepts; any other field is a configuration mistake. */
const APPLICABLE: Record<EstimatorKind, readonly Field[]> = {
  grpo: ['zeroVariance', 'eps'],
  drgrpo: ['zeroVariance'],
  rloo: ['zeroVariance'],
  'reinforce++': ['zeroVariance', 'eps'],
  'trr++': ['zeroVariance', 'eps'],
  rae: ['decay', 'numKeys'],
};

/** verl: epsilon 1e-6 on the GRPO std; masked_whiten adds 1e-8 to the variance. */
const DEFAULT_EPS: Partial<Record<EstimatorKind, number>> = { grpo: 1e-6, 'reinforce++': 1e-8, 'trr++': 1e-8 };
export const DEFAULT_DECAY = 0.95;
export const DEFAULT_NUM_KEYS = 2;

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
  if (issues.length) throw new ConfigError('estimator spec', issues);
  const rae = s.kind === 'rae';
  return Object.freeze({
    kind: s.kind,
    zeroVariance: s.zeroVariance ?? 'zero',
    eps: s.eps ?? DEFAULT_EPS[s.kind] ?? 0,
    decay: rae ? (s.decay ?? DEFAULT_DECAY) : 0,
    numKeys: rae ? (s.numKeys ?? DEFAULT_NUM_KEYS) : 0,
  });
}
