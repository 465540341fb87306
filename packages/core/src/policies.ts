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
}, { additionalProperties: false, default: {} });

export const PoliciesSchema = Type.Record(Type.String({ pattern: POLICY_NAME }), PolicyEntrySchema, {
  additionalProperties: false, minProperties: 1, maxProperties: 8,
  description: 'named policies, each with its own weights, optimizer state, version stream, publication and checkpoint (see docs/configuration.md#policies)',
});

export const RolesSchema = Type.Object({
  proposer: Type.Optional(Type.String({ pattern: POLICY_NAME, description: 'the policy the proposer service generates tasks with (recipes that propose with a policy)' })),
  solver: Type.String({ pattern: POLICY_NAME, description: 'the policy solvers answer and play with; held-out evaluation and export/ are of this policy' }),
}, { additionalProperties: false, description: 'which named policy plays each service role' });

export type PolicyEntry = Static<typeof PolicyEntrySchema>;
export type Roles = Static<typeof RolesSchema>;

/** The service roles a policy can play. */
export type ServiceRole = 'proposer' | 'solver';

/** Sample roles that the proposer service generates (a recipe's proposal samples). */
export const PROPOSING_ROLES: ReadonlySet<string> = new Set(['proposer', 'challenger']);

/** The service role that generated a sample of `sampleRole`. */
export function serviceRoleOf(sampleRole: string): ServiceRole {
  return PROPOSING_ROLES.has(sampleRole) ? 'proposer' : 'solver';
}

interface WithPolicies {
  readonly policies?: Readonly<Record<string, PolicyEntry>>;
  readonly roles?: Roles;
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
export function policiesIssues(config: WithPolicies, proposesWithPolicy: boolean): FieldIssue[] {
  const { policies, roles } = config;
  if (!policies && !roles) return [];
  if (!policies) return [{ path: '/roles', message: 'needs a policies section naming the policies it maps roles to' }];
  if (!roles) return [{ path: '/policies', message: 'needs a roles section saying which policy plays each role (roles: {solver: <name>, proposer: <name>})' }];
  const issues: FieldIssue[] = [];
  const names = Object.keys(policies);
  for (const role of ['proposer', 'solver'] as const) {
    const name = roles[role];
    if (name !== undefined && !(name in policies)) issues.push({ path: `/roles/${role}`, message: `names policy '${name}', which policies does not declare (declared: ${names.join(', ')})` });
  }
  if (roles.proposer !== undefined && !proposesWithPolicy) issues.push({ path: '/roles/proposer', message: 'this recipe proposes without a policy: only solver takes one' });
  if (roles.proposer === undefined && proposesWithPolicy) issues.push({ path: '/roles/proposer', message: 'this recipe proposes with a policy: say which one' });
  const used = new Set([roles.proposer, roles.solver]);
  for (const n of names) if (!used.has(n)) issues.push({ path: `/policies/${n}`, message: 'plays no role (roles maps none to it)' });
  if (names.every((n) => policies[n]!.frozen)) issues.push({ path: '/policies', message: 'every policy is frozen: nothing would be trained' });
  return issues;
}
