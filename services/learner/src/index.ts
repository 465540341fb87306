import type { RecipeRegistry } from '@spar/recipes';
import { runWorkerService } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { LearnerService } from './learner.ts';

export { LearnerService };

/** The learner service: experience → advantages → train step → published policy versions. */
/** The service's main(); `recipes` is the registry its bin.ts hands over (the built-in recipes). */
export function main(recipes: RecipeRegistry): Promise<void> {
  // A learner's SIGTERM finishes its step, checkpoints and releases the lease: allow 60 s.
  return runWorkerService('learner', loadConfig(), recipes, (d) => {
    // Fenced out by a standby: exit non-zero so a supervisor (local mode, compose, Kubernetes)
    // starts a fresh learner from the committed checkpoint.
    const learner = new LearnerService(d.config, d.redis, d.recipes, d.logger, d.metrics, () => d.exit(3));
    return { start: () => learner.start(), close: () => learner.close(), ready: () => learner.grpcPort !== undefined, describe: () => ({ grpcPort: learner.grpcPort }), grpcPort: () => learner.grpcPort };
  }, 60000);
}
