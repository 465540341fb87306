import { runWorkerService } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Proposer } from './proposer.ts';

export { Proposer };

/** The proposer service: keeps tasks queues filled with judge-validated tasks. */
export function main(): Promise<void> {
  return runWorkerService('proposer', loadConfig(), (d) => new Proposer(d.config, d.redis, d.recipes, d.logger, d.metrics));
}
