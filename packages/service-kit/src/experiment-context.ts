import { parseExperiment, type ExperimentConfig, type ExperimentRecord } from '@spar/core';
import { modelConfigFor, vocabularyFor, type Recipe, type RecipeRegistry } from '@spar/recipes';
import { loadHfTextModel, type HfTextModel, type ModelConfigInput, type TextCodec, type Vocabulary } from '@spar/policy/schema';

/** What every service derives from an experiment record: parsed config, recipe, vocabulary, model. */
export interface ExperimentContext {
  readonly id: string;
  readonly config: ExperimentConfig;
  readonly recipe: Recipe;
  /** The recipe's symbol vocabulary (the model's tokens unless `text` is present). */
  readonly vocab: Vocabulary;
  /** The model every policy of the experiment has: from the recipe's vocabulary and `policy`, or the imported model's. */
  readonly model: ModelConfigInput;
  /**
   * warmStart.from: hf — the imported model's text codec: its tokenizer's ids are the model's, and
   * recipes write and read text through it (PolicyHandle.text, Recipe.judge's `text`).
   */
  readonly text?: TextCodec;
}

/**
 * The context of a record whose model spar builds from the config alone (no file is read).
 * `imported`: the experiment's imported model (importedTextModel), required with warmStart.from: hf.
 */
export function experimentContext(rec: ExperimentRecord, recipes: RecipeRegistry, imported?: HfTextModel): ExperimentContext {
  return contextOf(rec.id, parseExperiment(rec.config, recipes), recipes, imported);
}

/**
 * Every service's context of an experiment: with warmStart.from: hf the imported model's
 * config.json and tokenizer are read from warmStart.path (once per folder, context and seed in
 * this process; see importedTextModel).
 */
export async function loadExperimentContext(rec: ExperimentRecord, recipes: RecipeRegistry): Promise<ExperimentContext> {
  const config = parseExperiment(rec.config, recipes);
  return contextOf(rec.id, config, recipes, config.warmStart?.from === 'hf' ? await importedTextModel(config) : undefined);
}

function contextOf(id: string, config: ExperimentConfig, recipes: RecipeRegistry, imported: HfTextModel | undefined): ExperimentContext {
  const recipe = recipes.get(config.recipe);
  const vocab = vocabularyFor(recipe, config);
  if (config.warmStart?.from !== 'hf') return { id, config, recipe, vocab, model: modelConfigFor(config, vocab) };
  if (!imported) throw new Error(`experiment ${id} runs an imported model (warmStart.from: hf): its context needs the model folder read (loadExperimentContext)`);
  // LoRA on an imported model: every service reads the frozen base from the same folder.
  const lora = config.policy.lora ? { ...config.policy.lora, base: config.warmStart.path } : undefined;
  return { id, config, recipe, vocab, model: lora ? { ...imported.config, lora } : imported.config, text: imported.codec };
}

/** Imported models read by this process, by folder, context and seed (a failed read is not kept: the next call retries). */
const imported = new Map<string, Promise<HfTextModel>>();

/**
 * The imported model of a config with warmStart.from: hf: the shape of `<path>/config.json` run
 * with `policy.context` (default min(max_position_embeddings, HF_TEXT_CONTEXT)) and the model
 * seed, and the text codec of its tokenizer. Throws what loadHfTextModel throws.
 */
export function importedTextModel(config: ExperimentConfig): Promise<HfTextModel> {
  const ws = config.warmStart;
  if (ws?.from !== 'hf' || ws.path === undefined) throw new Error('importedTextModel: the config has no warmStart.from: hf with a path');
  const seed = config.policy.seed ?? config.seed;
  const key = JSON.stringify([ws.path, config.policy.context ?? null, seed]);
  let p = imported.get(key);
  if (!p) {
    p = loadHfTextModel(ws.path, { ...(config.policy.context !== undefined ? { context: config.policy.context } : {}), seed });
    imported.set(key, p);
    p.catch(() => { if (imported.get(key) === p) imported.delete(key); });
  }
  return p;
}
