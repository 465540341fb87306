import { runWorkerService } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Solver } from './solver.ts';

export { Solver };

/** The solver service: tasks → groups of rollouts with the current policy. */
export function main(): Promise<void> {
  return runWorkerService('solver', loadConfig(), (d) => new Solver(d.config, d.redis, d.recipes, d.logger, d.metrics));
}
