export * from './recipe.ts';
export * from './held-out.ts';
export { replayMask, type Replayed } from './replay-mask.ts';
export { RecipeRegistry, vocabularyFor, modelConfigFor } from './registry.ts';
export { spiralGames, SpiralOptionsSchema, type SpiralOptions, type GameTask } from './spiral/recipe.ts';
export { TaskRejected } from './errors.ts';
export { absoluteZero, rlvrFixed, AzrOptionsSchema, RlvrOptionsSchema, type AzrOptions, type RlvrOptions } from './azr/index.ts';
export { rZero, RZeroOptionsSchema, type RZeroOptions } from './arith/index.ts';
import { absoluteZero, rlvrFixed } from './azr/index.ts';
import { rZero } from './arith/index.ts';
import { RecipeRegistry } from './registry.ts';
import { spiralGames } from './spiral/recipe.ts';

/** Every recipe built into spar. */
export function builtinRecipes(): RecipeRegistry {
  return new RecipeRegistry([spiralGames, absoluteZero, rlvrFixed, rZero]);
}
