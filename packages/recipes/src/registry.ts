import { Type, type TSchema } from '@sinclair/typebox';
import { ExperimentBaseSchema, policiesIssues, policyNames, ValidationError, type ExperimentConfig, type FieldIssue, type RecipeSchemas } from '@spar/core';
import { countParams, isStateful, parseModelConfig, resolveSpec, Vocabulary, type ModelConfigInput } from '@spar/policy/schema';
import type { Recipe } from './recipe.ts';

/** The recipes a deployment knows, by name. */
export class RecipeRegistry implements RecipeSchemas {
  private readonly byName = new Map<string, Recipe>();

  constructor(recipes: readonly Recipe[]) {
    for (const r of recipes) this.byName.set(r.name, r);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Recipe {
    const r = this.byName.get(name);
    if (!r) throw new ValidationError('recipe', [{ path: '/recipe', message: `unknown recipe '${name}'` }]);
    return r;
  }

  optionsSchema(name: string): TSchema | undefined {
    return this.byName.get(name)?.optionsSchema;
  }

  defaultEstimator(name: string): object | undefined {
    return this.byName.get(name)?.defaultEstimator;
  }

  checkConfig(config: ExperimentConfig): FieldIssue[] {
    const r = this.byName.get(config.recipe);
    if (!r) return [];
    const issues: FieldIssue[] = [];
    const known = new Set(r.evalSuites(config.options));
    (config.eval.suites ?? []).forEach((s, i) => {
      if (!known.has(s)) issues.push({ path: `/eval/suites/${i}`, message: `unknown suite '${s}' for ${r.name} (known: ${[...known].join(', ')})` });
    });
    const est = config.learner.estimator;
    const segments = r.segments(config.options).length;
    // Stateful estimators (rae, trr++ with decay) need a state slot per segment; the learner fills numKeys in.
    const stateful = isStateful(est);
    if (stateful && est.numKeys !== undefined && est.numKeys < segments) {
      issues.push({ path: '/learner/estimator/numKeys', message: `must be ≥ ${segments} (the recipe's segments; omit it to use exactly that)` });
    }
    try {
      resolveSpec(stateful ? { ...est, numKeys: est.numKeys ?? Math.max(1, segments) } : est);
    } catch (err) {
      for (const i of (err as { issues?: FieldIssue[] }).issues ?? [{ path: '', message: (err as Error).message }]) issues.push({ path: `/learner/estimator${i.path}`, message: i.message });
    }
    // An imported model's shape (and so which LoRA targets it has) is the controller's check.
    const hf = config.warmStart?.from === 'hf';
    try {
      const model = modelConfigFor(config, Vocabulary.create(r.vocabulary(config.options)));
      parseModelConfig(hf ? { ...model, lora: undefined } : model);
    } catch (err) {
      for (const i of (err as { issues?: FieldIssue[] }).issues ?? [{ path: '', message: (err as Error).message }]) issues.push({ path: `/policy${i.path}`, message: i.message });
    }
    if (config.learner.referenceRefreshEvery > 0 && config.learner.loss.klCoef === 0) {
      issues.push({ path: '/learner/referenceRefreshEvery', message: 'has no effect unless learner.loss.klCoef > 0' });
    }
    issues.push(...loraIssues(config));
    // An imported model's default context is read from its folder (the controller's check).
    const ctx = config.policy.context ?? (config.warmStart?.from === 'hf' ? undefined : 64);
    if (ctx !== undefined && config.rollout.maxNewTokens >= ctx) issues.push({ path: '/rollout/maxNewTokens', message: `must be < policy.context (${ctx})` });
    if (config.warmStart?.from === 'hf' && !r.textMode) {
      const withText = this.names().filter((n) => this.byName.get(n)!.textMode);
      issues.push({ path: '/warmStart/from', message: `recipe ${r.name} has no text mode, so it cannot run an imported model (from: hf; recipes that can: ${withText.join(', ')})` });
    }
    if (config.warmStart?.from === 'sft' && !r.warmStartExamples) {
      const withExamples = this.names().filter((n) => this.byName.get(n)!.warmStartExamples);
      issues.push({ path: '/warmStart/from', message: `recipe ${r.name} supplies no warm-start examples, so from: sft is not available (recipes that do: ${withExamples.join(', ')}); use from: experiment, checkpoint or export` });
    }
    for (const i of r.optionsIssues?.(config.options, config.warmStart?.from === 'hf') ?? []) issues.push({ path: `/options${i.path}`, message: i.message });
    issues.push(...policiesIssues(config, { proposesWithPolicy: r.proposesWithPolicy, labelsWithPolicy: r.labelsWithPolicy ?? false }));
    if (config.league && config.policies) issues.push({ path: '/league', message: 'a league trains the experiment\'s one policy; with named policies it is not available yet' });
    if (config.league) {
      const why = !r.match || !r.anchors ? `recipe ${r.name} plays no rated matches (recipes that do: ${this.names().filter((n) => this.byName.get(n)!.match).join(', ')})`
        : config.league.gating.by === 'exploitability' && !r.exploitability ? `gating.by: exploitability needs a recipe that computes exploitability exactly; ${r.name} does not (gate by match)`
          : r.leagueIssue?.(config.options, config.league);
      if (why) issues.push({ path: '/league', message: why });
    }
    return issues;
  }

  /**
   * Exact parameter count of the policy a (valid) config builds from scratch. Not for
   * warmStart.from: hf, whose shape is the imported folder's (the controller counts that one).
   */
  modelParams(config: ExperimentConfig): number {
    // Every named policy is a model of this shape held by the learner.
    return countParams(parseModelConfig(modelConfigFor(config, vocabularyFor(this.get(config.recipe), config)))) * Math.max(1, policyNames(config).length);
  }

  /** The published JSON Schema: the common shape with `options` as one schema per recipe. */
  jsonSchema(): TSchema {
    const variants = [...this.byName.values()].map((r) => Type.Object({
      ...ExperimentBaseSchema.properties,
      recipe: Type.Literal(r.name, { description: r.description }),
      options: Type.Optional(r.optionsSchema),
    }, { additionalProperties: false, title: r.name }));
    const schema = variants.length === 1 ? { ...variants[0]!, $id: SCHEMA_ID } : Type.Union(variants, { $id: SCHEMA_ID, title: 'spar experiment config' });
    return optionalDefaults(structuredClone(schema));
  }
}

const SCHEMA_ID = 'https://spar.dev/schemas/experiment.json';

/** In the published schema, a property with a default is not required (the server fills it in). */
function optionalDefaults<T>(node: T): T {
  if (Array.isArray(node)) node.forEach(optionalDefaults);
  else if (node && typeof node === 'object') {
    const o = node as { required?: string[]; properties?: Record<string, { default?: unknown }> };
    if (o.required && o.properties) {
      o.required = o.required.filter((k) => o.properties![k]?.default === undefined);
      if (o.required.length === 0) delete o.required;
    }
    for (const v of Object.values(node)) optionalDefaults(v);
  }
  return node;
}

/** The vocabulary a recipe's experiment uses (deterministic from the options). */
export function vocabularyFor(recipe: Recipe, config: ExperimentConfig): Vocabulary {
  return Vocabulary.create(recipe.vocabulary(config.options));
}

/** The policy's model config: the experiment's policy section plus the vocabulary size. */
/**
 * LoRA's base must be one every service can build by itself: the imported model (from: hf) or the
 * seeded initialisation (no warm start, or sft, which trains the adapters). The KL reference of a
 * LoRA policy is its base, which does not move.
 */
function loraIssues(config: ExperimentConfig): FieldIssue[] {
  if (!config.policy.lora) return [];
  const issues: FieldIssue[] = [];
  const from = config.warmStart?.from;
  if (from === 'experiment' || from === 'checkpoint' || from === 'export') {
    issues.push({ path: '/policy/lora', message: `not available with warmStart.from: ${from}: adapters need a base every service reads itself (warmStart.from: hf, or the seeded initialisation)` });
  }
  if (config.learner.referenceRefreshEvery > 0) {
    issues.push({ path: '/learner/referenceRefreshEvery', message: 'must be 0 with policy.lora: the KL reference of an adapted policy is its frozen base' });
  }
  return issues;
}

export function modelConfigFor(config: ExperimentConfig, vocab: Vocabulary): ModelConfigInput {
  return { ...config.policy, vocabSize: vocab.size, seed: config.policy.seed ?? config.seed };
}
