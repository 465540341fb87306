import type { RecipeRegistry } from '@spar/recipes';
import { runWorkerService } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Solver } from './solver.ts';

export { Solver };

/** The solver service: tasks → groups of rollouts with the current policy. */
/** The service's main(); `recipes` is the registry its bin.ts hands over (the built-in recipes). */
export function main(recipes: RecipeRegistry): Promise<void> {
  return runWorkerService('solver', loadConfig(), recipes, (d) => new Solver(d.config, d.redis, d.recipes, d.logger, d.metrics));
}
