import { Type, type Static } from '@sinclair/typebox';
import type { FieldIssue } from './errors.ts';

/**
 * Named policies (config `policies` + `roles`): an experiment may train a separate policy per
 * service role — R-Zero's challenger and solver — or keep one frozen. Without the two sections an
 * experiment has one unnamed policy that plays every role, as it always had.
 */
export const POLICY_NAME = '^[a-z][a-z0-9_-]{0,31}$';

export const PolicyEntrySchema = Type.Object({
  frozen: Type.Boolean({ default: false, description: 'never trained: keeps the weights it starts from (the warm start, or the seed\'s initialisation)' }),
  copies: Type.Optional(Type.String({ pattern: POLICY_NAME, description: 'a frozen policy that takes a copy of the named trained policy\'s weights at the start of every round (rounds); R-Zero\'s frozen solver snapshot' })),
}, { additionalProperties: false, default: {} });

export const PoliciesSchema = Type.Record(Type.String({ pattern: POLICY_NAME }), PolicyEntrySchema, {
  additionalProperties: false, minProperties: 1, maxProperties: 8,
  description: 'named policies, each with its own weights, optimizer state, version stream, publication and checkpoint (see docs/configuration.md#policies)',
});

export const RolesSchema = Type.Object({
  proposer: Type.Optional(Type.String({ pattern: POLICY_NAME, description: 'the policy the proposer service generates tasks with (recipes that propose with a policy)' })),
  solver: Type.String({ pattern: POLICY_NAME, description: 'the policy solvers answer and play with; held-out evaluation and export/ are of this policy' }),
  labeler: Type.Optional(Type.String({ pattern: POLICY_NAME, description: 'a frozen policy whose answers label the solver\'s (recipes that label with a policy: r-zero\'s majority vote); its answers are never trained' })),
}, { additionalProperties: false, description: 'which named policy plays each service role' });

export const RoundsSchema = Type.Object({
  phases: Type.Array(Type.Object({
    train: Type.String({ pattern: POLICY_NAME, description: 'the one policy trained in this phase; every other policy is held fixed and its samples are not trained' }),
    steps: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'learner steps of this phase' }),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 16 }),
}, { additionalProperties: false, description: 'alternating training phases, repeated until the budget ends; a round is one pass over the phases (R-Zero: challenger, then solver)' });

export type PolicyEntry = Static<typeof PolicyEntrySchema>;
export type Roles = Static<typeof RolesSchema>;
export type Rounds = Static<typeof RoundsSchema>;

/** The service roles a policy can play (the labeler's answers are sampled by the solver service and never trained). */
export type ServiceRole = 'proposer' | 'solver' | 'labeler';

/** Sample roles that the proposer service generates (a recipe's proposal samples). */
export const PROPOSING_ROLES: ReadonlySet<string> = new Set(['proposer', 'challenger']);

/** The service role that generated a sample of `sampleRole`. */
export function serviceRoleOf(sampleRole: string): ServiceRole {
  return PROPOSING_ROLES.has(sampleRole) ? 'proposer' : 'solver';
}

interface WithPolicies {
  readonly policies?: Readonly<Record<string, PolicyEntry>>;
  readonly roles?: Roles;
  readonly rounds?: Rounds;
}

/** What the recipe does with policies besides solving (the cross-field rules depend on it). */
export interface RecipePolicyUse {
  /** The proposer generates tasks with a policy (then roles.proposer is required). */
  readonly proposesWithPolicy: boolean;
  /** The solver's answers are labelled by a policy's answers (then roles.labeler may be set). */
  readonly labelsWithPolicy: boolean;
}

/** Where a run of `rounds` stands after `step` learner steps: the phase the next step trains in. */
export interface Phase {
  /** Rounds completed (0-based index of the current round). */
  readonly round: number;
  /** Index into rounds.phases. */
  readonly index: number;
  /** The policy this phase trains. */
  readonly train: string;
  /** Steps of this phase already taken. */
  readonly stepInPhase: number;
  /** Whether `step` is the first step of a round (a round boundary: copies are taken there). */
  readonly roundStart: boolean;
}

/** The phase of the step after `step` completed learner steps (rounds repeat until the budget ends). */
export function phaseAt(rounds: Rounds, step: number): Phase {
  const length = rounds.phases.reduce((s, p) => s + p.steps, 0);
  const round = Math.floor(step / length);
  let pos = step - round * length;
  for (const [index, p] of rounds.phases.entries()) {
    if (pos < p.steps) return { round, index, train: p.train, stepInPhase: pos, roundStart: index === 0 && pos === 0 };
    pos -= p.steps;
  }
  throw new Error('unreachable: a position inside the round always falls in a phase');
}

/** The named policy that plays `role`; undefined: the experiment's one unnamed policy. */
export function policyFor(config: WithPolicies, role: ServiceRole): string | undefined {
  return config.roles?.[role];
}

/** The named policies in declaration order (empty without the section). */
export function policyNames(config: WithPolicies): string[] {
  return Object.keys(config.policies ?? {});
}

/**
 * Cross-field rules of `policies` and `roles`: both or neither; every role names a declared
 * policy and every declared policy plays a role; at least one is trained. `proposesWithPolicy`:
 * whether the recipe's proposer generates with a policy (only then may `roles.proposer` be set,
 * and then it must be).
 */
export function policiesIssues(config: WithPolicies, use: RecipePolicyUse): FieldIssue[] {
  const { policies, roles, rounds } = config;
  const { proposesWithPolicy, labelsWithPolicy } = use;
  if (!policies && !roles) return rounds ? [{ path: '/rounds', message: 'needs named policies (policies and roles) to alternate between' }] : [];
  if (!policies) return [{ path: '/roles', message: 'needs a policies section naming the policies it maps roles to' }];
  if (!roles) return [{ path: '/policies', message: 'needs a roles section saying which policy plays each role (roles: {solver: <name>, proposer: <name>})' }];
  const issues: FieldIssue[] = [];
  const names = Object.keys(policies);
  for (const role of ['proposer', 'solver', 'labeler'] as const) {
    const name = roles[role];
    if (name !== undefined && !(name in policies)) issues.push({ path: `/roles/${role}`, message: `names policy '${name}', which policies does not declare (declared: ${names.join(', ')})` });
  }
  if (roles.proposer !== undefined && !proposesWithPolicy) issues.push({ path: '/roles/proposer', message: 'this recipe proposes without a policy: only solver takes one' });
  if (roles.proposer === undefined && proposesWithPolicy) issues.push({ path: '/roles/proposer', message: 'this recipe proposes with a policy: say which one' });
  if (roles.labeler !== undefined) {
    if (!labelsWithPolicy) issues.push({ path: '/roles/labeler', message: 'this recipe does not label answers with a policy' });
    else if (roles.labeler === roles.solver || roles.labeler === roles.proposer) issues.push({ path: '/roles/labeler', message: 'must be a policy of its own (a frozen one, or one that copies the solver\'s each round)' });
    else if (policies[roles.labeler] && !policies[roles.labeler]!.frozen) issues.push({ path: `/policies/${roles.labeler}/frozen`, message: 'the labeler must be frozen: its answers are never trained' });
  }
  const used = new Set([roles.proposer, roles.solver, roles.labeler]);
  for (const n of names) if (!used.has(n)) issues.push({ path: `/policies/${n}`, message: 'plays no role (roles maps none to it)' });
  if (names.every((n) => policies[n]!.frozen)) issues.push({ path: '/policies', message: 'every policy is frozen: nothing would be trained' });
  for (const n of names) {
    const src: string | undefined = policies[n]!.copies;
    if (src === undefined) continue;
    if (!policies[n]!.frozen) issues.push({ path: `/policies/${n}/copies`, message: 'only a frozen policy copies another (a trained one has weights of its own)' });
    if (!(src in policies)) issues.push({ path: `/policies/${n}/copies`, message: `names policy '${src}', which policies does not declare` });
    else if (policies[src]!.frozen) issues.push({ path: `/policies/${n}/copies`, message: `'${src}' is frozen: a copy of it would never change` });
    if (!rounds) issues.push({ path: `/policies/${n}/copies`, message: 'copies are taken at round starts: needs a rounds section' });
  }
  if (rounds) {
    const trained = new Set<string>();
    for (const [i, p] of rounds.phases.entries()) {
      if (!(p.train in policies)) issues.push({ path: `/rounds/phases/${i}/train`, message: `names policy '${p.train}', which policies does not declare` });
      else if (policies[p.train]!.frozen) issues.push({ path: `/rounds/phases/${i}/train`, message: `'${p.train}' is frozen` });
      trained.add(p.train);
    }
    for (const n of names) if (!policies[n]!.frozen && !trained.has(n)) issues.push({ path: '/rounds/phases', message: `policy '${n}' is not frozen but no phase trains it` });
  }
  return issues;
}
