import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkLimits, NotFoundError, policyNames, type ExperimentConfig, type FieldIssue, type ResourceLimits } from '@spar/core';
import { countParams, parseModelConfig, shapeMismatch, type HfTextModel, type ModelConfig } from '@spar/policy/schema';
import { modelConfigFor, vocabularyFor, type RecipeRegistry } from '@spar/recipes';
import { importedTextModel, type ExperimentStore } from '@spar/service-kit';

const modelOf = (config: ExperimentConfig, recipes: RecipeRegistry): ModelConfig =>
  parseModelConfig(modelConfigFor(config, vocabularyFor(recipes.get(config.recipe), config)));

/**
 * The model config stored with a checkpoint or export folder, when this process can read it (the
 * controller often runs apart from the learner's disk; the learner checks again when it loads).
 */
async function modelAt(path: string): Promise<unknown | undefined> {
  const json = async (p: string) => JSON.parse(await readFile(p, 'utf8')) as { model?: unknown; metadata?: { model?: unknown } };
  try { return (await json(join(path, 'config.json'))).model; } catch { /* not an export */ }
  try { return (await json(join(path, 'checkpoint.json'))).metadata?.model; } catch { /* not one checkpoint */ }
  try {
    const steps = (await readdir(path)).filter((n) => /^step-\d+$/.test(n)).sort();
    if (steps.length) return (await json(join(path, steps.at(-1)!, 'checkpoint.json'))).metadata?.model;
  } catch { /* unreadable here */ }
  return undefined;
}

/**
 * An imported model (from: hf): the folder must be readable here — the controller sees it at the
 * path every service will open — with config.json of a supported model, weights and tokenizer.json;
 * the recipe's longest prompts, in this tokenizer's tokens, must leave their reply budgets within
 * the context the experiment runs the model with (Recipe.textPromptIssues); then the resource
 * limits, with the imported shape and that context.
 */
async function hfSourceIssues(config: ExperimentConfig, recipes: RecipeRegistry, limits: ResourceLimits | undefined): Promise<FieldIssue[]> {
  let model: HfTextModel;
  try {
    model = await importedTextModel(config);
  } catch (err) {
    return [{ path: '/warmStart/path', message: `${(err as Error).message} (a local Hugging Face model folder that every service sees at this path; spar downloads nothing)` }];
  }
  if (config.policy.lora) {
    try {
      parseModelConfig({ ...model.config, lora: config.policy.lora });
    } catch (err) {
      return ((err as { issues?: FieldIssue[] }).issues ?? [{ path: '', message: (err as Error).message }]).map((i) => ({ path: `/policy${i.path}`, message: i.message }));
    }
  }
  const fit = recipes.get(config.recipe).textPromptIssues?.(config, model.codec, model.config.context) ?? [];
  if (fit.length) return fit;
  if (!limits) return [];
  const params = countParams(model.config) * Math.max(1, policyNames(config).length);
  return checkLimits({ ...config, policy: { ...config.policy, context: model.config.context } }, params, limits);
}

/**
 * Submit-time checks of a warm-start source: the earlier experiment exists, and its policy (or
 * the checkpoint's or export's, when readable here) has this experiment's weight shapes; an
 * imported model's folder holds what every service needs, within `limits` (hfSourceIssues).
 */
export async function warmStartSourceIssues(config: ExperimentConfig, store: ExperimentStore, recipes: RecipeRegistry, limits?: ResourceLimits): Promise<FieldIssue[]> {
  const ws = config.warmStart;
  if (!ws || ws.from === 'sft') return [];
  if (ws.from === 'hf') return hfSourceIssues(config, recipes, limits);
  const target = modelOf(config, recipes);
  let source: ModelConfig | undefined;
  let where: string;
  if (ws.from === 'experiment') {
    where = '/warmStart/id';
    try {
      const rec = await store.get(ws.id!);
      source = modelOf(rec.config as ExperimentConfig, recipes);
      if (ws.policy === 'best' && !(rec.config as ExperimentConfig).league) return [{ path: '/warmStart/policy', message: `experiment '${ws.id}' ran no league, so it has no best policy (use policy: latest)` }];
      if (ws.policy === 'best' && rec.artifacts?.bestOnnx === undefined) return [{ path: '/warmStart/policy', message: `experiment '${ws.id}' has not exported a best policy yet (state ${rec.state}); it does when it completes or is stopped` }];
    } catch (err) {
      if (err instanceof NotFoundError) return [{ path: where, message: `no experiment '${ws.id}' to start from` }];
      throw err;
    }
  } else {
    where = '/warmStart/path';
    const raw = await modelAt(ws.path!);
    if (raw === undefined) return [];
    try { source = parseModelConfig(raw); } catch { return [{ path: where, message: `${ws.path}: the stored model config is not valid` }]; }
  }
  const why = shapeMismatch(target, source);
  return why ? [{ path: where, message: why }] : [];
}
