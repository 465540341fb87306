import type { RecipeRegistry } from '@spar/recipes';
import { runWorkerService } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Proposer } from './proposer.ts';

export { Proposer };

/** The proposer service: keeps tasks queues filled with judge-validated tasks. */
/** The service's main(); `recipes` is the registry its bin.ts hands over (the built-in recipes). */
export function main(recipes: RecipeRegistry): Promise<void> {
  return runWorkerService('proposer', loadConfig(), recipes, (d) => new Proposer(d.config, d.redis, d.recipes, d.logger, d.metrics));
}
