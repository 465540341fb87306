import { parseExperiment, type ExperimentConfig, type ExperimentRecord } from '@spar/core';
import { modelConfigFor, vocabularyFor, type Recipe, type RecipeRegistry } from '@spar/recipes';
import type { ModelConfigInput, Vocabulary } from '@spar/policy/schema';

/** What every service derives from an experiment record: parsed config, recipe, vocabulary, model. */
export interface ExperimentContext {
  readonly id: string;
  readonly config: ExperimentConfig;
  readonly recipe: Recipe;
  readonly vocab: Vocabulary;
  readonly model: ModelConfigInput;
}

export function experimentContext(rec: ExperimentRecord, recipes: RecipeRegistry): ExperimentContext {
  const config = parseExperiment(rec.config, recipes);
  const recipe = recipes.get(config.recipe);
  const vocab = vocabularyFor(recipe, config);
  return { id: rec.id, config, recipe, vocab, model: modelConfigFor(config, vocab) };
}
