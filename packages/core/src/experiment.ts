import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EstimatorSpecSchema, LoraConfigSchema, LossConfigSchema, ModelConfigSchema, OptimizerConfigSchema } from '@spar/policy/schema';
import YAML from 'yaml';
import { ValidationError, type FieldIssue } from './errors.ts';
import { checkLimits, type ResourceLimits } from './limits.ts';
import { PoliciesSchema, RolesSchema, RoundsSchema } from './policies.ts';
import { check, deepFreeze, MAX_NESTING_DEPTH, nestsDeeperThan } from './validate.ts';

const { vocabSize: _omit, seed: _seed, lora: _lora, ...baseModelProps } = ModelConfigSchema.properties;
const modelProps = {
  ...baseModelProps,
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'model initialisation seed (default: the experiment seed)' })),
  lora: Type.Optional(Type.Object(LoraConfigSchema.properties, {
    additionalProperties: false,
    description: 'train low-rank adapters on a frozen base (the imported model with warmStart.from: hf); only adapters are trained, checkpointed and sent to workers; the KL reference is the base (see docs/configuration.md#lora)',
  })),
};
/** The policy part of an experiment: the model config minus vocabSize (the recipe's vocabulary decides it). */
export const PolicySectionSchema = Type.Object(modelProps, { additionalProperties: false });

export const RolloutSchema = Type.Object({
  groupSize: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'rollouts (or episodes) per task' }),
  temperature: Type.Number({ minimum: 0, maximum: 10, default: 1 }),
  topP: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 }),
  maxNewTokens: Type.Integer({ minimum: 1, maximum: 4096, default: 16 }),
  concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 4, description: 'tasks a solver works on at once' }),
  maxQueuedTasks: Type.Integer({ minimum: 1, maximum: 100000, default: 64, description: 'proposer pauses while the tasks queue is deeper' }),
  admission: Type.Union([Type.Literal('staleness'), Type.Literal('off')], {
    default: 'staleness',
    description: "staleness: solvers start a group only while the trajectories in flight (admitted, not yet judged) plus those judged but not yet consumed by a learner step stay below (learner.maxStaleness + 1) × learner.batchSize, so what they generate can still be trained; off: generate as fast as the solvers can (most of it may be dropped as stale)",
  }),
}, { additionalProperties: false });

export const LearnerSchema = Type.Object({
  estimator: Type.Object(EstimatorSpecSchema.properties, { additionalProperties: false, default: { kind: 'grpo' } }),
  loss: Type.Object(LossConfigSchema.properties, { additionalProperties: false, default: {} }),
  optimizer: Type.Object(OptimizerConfigSchema.properties, { additionalProperties: false, default: {} }),
  batchSize: Type.Integer({ minimum: 1, maximum: 65536, default: 64, description: 'trajectories (samples) per learner step' }),
  maxStaleness: Type.Integer({ minimum: 0, maximum: 1000, default: 4, description: 'drop samples more than this many versions behind' }),
  checkpointEvery: Type.Integer({ minimum: 1, maximum: 1000000, default: 50 }),
  keepCheckpoints: Type.Integer({ minimum: 1, maximum: 1000, default: 3 }),
  referenceRefreshEvery: Type.Integer({
    minimum: 0, maximum: 1000000, default: 0,
    description: 'with loss.klCoef > 0: learner steps between refreshes of the KL reference to the current weights (a magnet, as in magnetic mirror descent); 0 = the initial policy, frozen',
  }),
}, { additionalProperties: false });

export const EvalSchema = Type.Object({
  every: Type.Integer({ minimum: 0, maximum: 1000000, default: 50, description: 'learner steps between evaluations; 0 = only at the end' }),
  suites: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'default: every suite of the recipe' })),
  episodes: Type.Integer({ minimum: 1, maximum: 100000, default: 200, description: 'games / questions per suite' }),
  seed: Type.Integer({ minimum: 0, default: 12345 }),
}, { additionalProperties: false });

export const BudgetSchema = Type.Object({
  maxSteps: Type.Integer({ minimum: 1, maximum: 10000000, default: 200 }),
  maxMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 100000, default: 60 }),
}, { additionalProperties: false });

export const LeagueSchema = Type.Object({
  snapshotEvery: Type.Integer({ minimum: 1, maximum: 10000000, default: 100, description: 'learner steps between snapshots of the learning policy; each snapshot is gated against the best and rated' }),
  keep: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'snapshots kept for the opponent pool (the newest; the best is kept besides)' }),
  opponents: Type.Object({
    share: Type.Number({ minimum: 0, maximum: 1, default: 0.2, description: 'share of training games played against a snapshot (the rest: the latest policy in both seats); only the learning seat is trained' }),
    sampling: Type.Union([Type.Literal('uniform'), Type.Literal('prioritized')], {
      default: 'prioritized',
      description: "which snapshot: uniform over the pool, or prioritized by the learning policy's losses against each (weight (1 - score)^2, AlphaStar's PFSP)",
    }),
  }, { additionalProperties: false, default: {} }),
  gating: Type.Object({
    by: Type.Union([Type.Literal('match'), Type.Literal('exploitability')], {
      default: 'match',
      description: "match: a snapshot becomes the best by beating it (score and rating, below); exploitability: by an exactly computed exploitability strictly below the best's (games whose recipe computes it: Kuhn), since near-equilibrium poker strategies tie head to head",
    }),
    games: Type.Integer({ minimum: 2, maximum: 100000, default: 200, description: 'games per gating match (seats balanced), and per match against each anchor' }),
    margin: Type.Number({ minimum: 0, maximum: 0.5, default: 0.05, description: 'by: match: a snapshot becomes the best only when its score against the best is at least 0.5 + margin (draws count half) and its rating is not below the best\'s' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

export const WARM_START_SOURCES = ['sft', 'experiment', 'checkpoint', 'export', 'hf'] as const;

export const WarmStartSchema = Type.Object({
  from: Type.Union(WARM_START_SOURCES.map((s) => Type.Literal(s)), {
    description: "sft: supervised steps on examples the recipe supplies; experiment: the weights of an earlier experiment (id); checkpoint: a checkpoint folder (or a checkpoints folder: its newest step); export: an exported policy folder (model.onnx + config.json); hf: a local Hugging Face model folder (config.json, weights, tokenizer.json) whose shape, weights and tokenizer the experiment runs (recipes with a text mode)",
  }),
  steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000000, description: 'sft: supervised steps (with minutes: whichever ends first)' })),
  minutes: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100000, description: 'sft: wall-clock budget of the stage' })),
  batchSize: Type.Integer({ minimum: 1, maximum: 65536, default: 64, description: 'sft: examples per step' }),
  lr: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.001, description: 'sft: AdamW learning rate (self-play starts with fresh optimizer moments)' }),
  evalEvery: Type.Integer({ minimum: 0, maximum: 10000000, default: 0, description: 'sft: steps between held-out evaluations; 0 = before and after the stage only' }),
  checkpointEvery: Type.Integer({ minimum: 1, maximum: 10000000, default: 100, description: 'sft: steps between checkpoints (a killed learner resumes the stage from the newest)' }),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'sft: example stream seed (default: the model seed + 1)' })),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'experiment: the id of the earlier experiment' })),
  policy: Type.Optional(Type.Union([Type.Literal('latest'), Type.Literal('best')], { description: "experiment: which of its policies (default latest; best needs an experiment that ran a league)" })),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'checkpoint | export: a path on the learner host; hf: a Hugging Face model folder every service sees at this path' })),
}, { additionalProperties: false });

/** Cross-field rules of `warmStart` (which fields each source needs). */
export function warmStartIssues(ws: Static<typeof WarmStartSchema> | undefined): FieldIssue[] {
  if (!ws) return [];
  const issues: FieldIssue[] = [];
  const need = (field: 'steps' | 'id' | 'path', why: string) => issues.push({ path: `/warmStart/${field}`, message: why });
  const forbid = (fields: readonly (keyof typeof ws)[]) => {
    for (const f of fields) if (ws[f] !== undefined) issues.push({ path: `/warmStart/${String(f)}`, message: `not used with from: ${ws.from}` });
  };
  if (ws.from === 'sft') {
    if (ws.steps === undefined && ws.minutes === undefined) need('steps', 'from: sft needs steps or minutes (or both)');
    forbid(['id', 'path', 'policy']);
  } else {
    if (ws.from === 'experiment' && ws.id === undefined) need('id', 'from: experiment needs the id of the earlier experiment');
    if ((ws.from === 'checkpoint' || ws.from === 'export' || ws.from === 'hf') && ws.path === undefined) {
      need('path', ws.from === 'hf' ? 'from: hf needs the path of a local Hugging Face model folder' : `from: ${ws.from} needs a path`);
    }
    forbid(ws.from === 'experiment' ? ['steps', 'minutes', 'path'] : ['steps', 'minutes', 'id', 'policy']);
    // Every service opens an imported model's folder, each from its own working directory.
    if (ws.from === 'hf' && ws.path !== undefined && !ws.path.startsWith('/')) need('path', 'from: hf needs an absolute path (every service opens the folder at this same path)');
  }
  return issues;
}

/** The `policy` fields an experiment may set with `warmStart.from: hf`; the rest of the shape is the imported model's. */
export const HF_POLICY_FIELDS: readonly string[] = ['context', 'seed', 'lora'];

/**
 * With `warmStart.from: hf` the model's shape comes from the folder's config.json: a shape field
 * given in `policy` (`given`: the section as submitted, before defaults) would describe another
 * model, so each one is refused.
 */
export function hfPolicyIssues(warmStart: ExperimentBase['warmStart'], given: unknown): FieldIssue[] {
  if (warmStart?.from !== 'hf' || typeof given !== 'object' || given === null) return [];
  return Object.keys(given).filter((k) => !HF_POLICY_FIELDS.includes(k)).map((k) => ({
    path: `/policy/${k}`,
    message: `not used with warmStart.from: hf: the model's shape comes from ${warmStart.path ?? 'the model folder'}/config.json (only policy.${HF_POLICY_FIELDS.join(' and policy.')} may be set)`,
  }));
}

/** Common top-level shape; `options` is validated by the recipe's own schema. */
export const ExperimentBaseSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._ -]*$' }),
  recipe: Type.String({ minLength: 1 }),
  options: Type.Optional(Type.Unknown()),
  policy: Type.Object(modelProps, { additionalProperties: false, default: {} }),
  rollout: Type.Object(RolloutSchema.properties, { additionalProperties: false, default: {} }),
  learner: Type.Object(LearnerSchema.properties, { additionalProperties: false, default: {} }),
  eval: Type.Object(EvalSchema.properties, { additionalProperties: false, default: {} }),
  budget: Type.Object(BudgetSchema.properties, { additionalProperties: false, default: {} }),
  league: Type.Optional(Type.Object(LeagueSchema.properties, { additionalProperties: false, description: 'snapshots, an opponent pool, gating (best vs latest) and ratings; game recipes (see docs/configuration.md#league)' })),
  policies: Type.Optional(PoliciesSchema),
  roles: Type.Optional(RolesSchema),
  rounds: Type.Optional(RoundsSchema),
  warmStart: Type.Optional(Type.Object(WarmStartSchema.properties, { additionalProperties: false, description: 'a stage before self-play: start from trained weights (see docs/configuration.md#warmstart)' })),
  seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 1 }),
}, { additionalProperties: false });

export type ExperimentBase = Static<typeof ExperimentBaseSchema>;
export interface ExperimentConfig<O = unknown> extends Omit<ExperimentBase, 'options'> {
  readonly options: O;
}

/** What the experiment parser needs from the recipe registry. */
export interface RecipeSchemas {
  names(): string[];
  optionsSchema(recipe: string): TSchema | undefined;
  /** The estimator a recipe uses when the config names none (e.g. RAE for games). */
  defaultEstimator?(recipe: string): object | undefined;
  /** Cross-field checks a recipe needs (e.g. eval suites it knows); returns issues. */
  checkConfig?(config: ExperimentConfig): FieldIssue[];
  /** Parameters of the policy the config builds (with the recipe's vocabulary); needed for limits. */
  modelParams?(config: ExperimentConfig): number;
}

/** Most alias expansions in one YAML document (an alias bomb expands exponentially). */
export const MAX_YAML_ALIASES = 50;

/**
 * Parse a YAML or JSON text (JSON is YAML) into a plain object. Every failure is a ValidationError
 * at path "": syntax errors, an alias to no anchor, more than MAX_YAML_ALIASES alias expansions,
 * and nesting too deep for the parser (yaml reports its own stack overflow as a syntax error).
 */
export function parseConfigText(text: string): unknown {
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    throw new ValidationError('experiment config', doc.errors.map((e) => ({ path: '', message: `syntax: ${e.message.split('\n')[0]}` })));
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // yaml throws ReferenceError for an unresolved alias and for an alias count over the limit.
    const why = (err as Error).message.startsWith('Excessive alias count') ? `more than ${MAX_YAML_ALIASES} alias expansions` : (err as Error).message;
    throw new ValidationError('experiment config', [{ path: '', message: `alias: ${why}` }]);
  }
}

/**
 * Validate an experiment config against the common schema and the recipe's options schema.
 * With `limits` (the controller, at submission) the config must also fit the resource caps;
 * those run last, once the config is otherwise valid, since the parameter count needs a valid model.
 */
export function parseExperiment(input: unknown, recipes: RecipeSchemas, limits?: ResourceLimits): ExperimentConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('experiment config', [{ path: '', message: 'must be an object' }]);
  }
  if (nestsDeeperThan(input, MAX_NESTING_DEPTH)) {
    throw new ValidationError('experiment config', [{ path: '', message: `nested deeper than the limit of ${MAX_NESTING_DEPTH} levels (or cyclic)` }]);
  }
  const recipe = (input as { recipe?: unknown }).recipe;
  const learnerIn = (input as { learner?: { estimator?: unknown } }).learner;
  const fallback = typeof recipe === 'string' ? recipes.defaultEstimator?.(recipe) : undefined;
  if (fallback && (learnerIn === undefined || (typeof learnerIn === 'object' && learnerIn !== null && learnerIn.estimator === undefined))) {
    input = { ...(input as object), learner: { ...(learnerIn ?? {}), estimator: fallback } };
  }
  const { value, issues } = check(ExperimentBaseSchema, input);
  let options: unknown = value.options ?? {};
  if (typeof recipe === 'string') {
    const schema = recipes.optionsSchema(recipe);
    if (!schema) issues.push({ path: '/recipe', message: `unknown recipe '${recipe}' (known: ${recipes.names().join(', ')})` });
    else {
      const r = check(schema, options, '/options');
      options = r.value;
      issues.push(...r.issues);
    }
  }
  const config = { ...value, options } as ExperimentConfig;
  if (value.warmStart?.from === 'hf') {
    // An imported model keeps only what was given of `policy` (context, seed): the schema's shape
    // defaults describe no model here, and an absent context means the imported model's default.
    const given = (input as { policy?: unknown }).policy;
    issues.push(...hfPolicyIssues(value.warmStart, given));
    const keep = typeof given === 'object' && given !== null ? Object.keys(given).filter((k) => HF_POLICY_FIELDS.includes(k)) : [];
    (config as { policy: ExperimentBase['policy'] }).policy = Object.fromEntries(Object.entries(value.policy).filter(([k]) => keep.includes(k))) as ExperimentBase['policy'];
  }
  issues.push(...warmStartIssues(value.warmStart));
  if (!issues.length && recipes.checkConfig) issues.push(...recipes.checkConfig(config));
  // An imported model's shape is in its folder: the controller checks the limits once it has read it.
  if (!issues.length && limits && config.warmStart?.from !== 'hf') issues.push(...checkLimits(config, recipes.modelParams?.(config) ?? 0, limits));
  if (issues.length) throw new ValidationError('experiment config', issues);
  return deepFreeze(config);
}
