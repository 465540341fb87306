import type { RecipeRegistry } from '@spar/recipes';
import { runWorkerService } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Judge } from './judge.ts';

export { Judge };

/** The judge service: ValidateTasks over gRPC, rollout groups → experience stream. */
/** The service's main(); `recipes` is the registry its bin.ts hands over (the built-in recipes). */
export function main(recipes: RecipeRegistry): Promise<void> {
  return runWorkerService('judge', loadConfig(), recipes, (d) => {
    const judge = new Judge(d.config, d.redis, d.recipes, d.logger, d.metrics);
    return { start: () => judge.start(), close: () => judge.close(), ready: () => judge.grpcPort !== undefined, describe: () => ({ grpcPort: judge.grpcPort }), grpcPort: () => judge.grpcPort };
  });
}
