import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, exitOnSignals, Metrics, OpsServer, shutdownSequence } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Solver } from './solver.ts';

export { Solver };

/** The solver service: tasks → groups of rollouts with the current policy. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('solver', config.SPAR_LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, 'solver');
  const metrics = new Metrics('solver');
  const solver = new Solver(config, redis, builtinRecipes(), logger, metrics);
  const ops = await OpsServer.start({ port: config.SPAR_OPS_PORT, registry: metrics.registry, ready: () => redis.status === 'ready' });
  const shutdown = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'ops', close: () => ops.close() },
    { name: 'solver', close: () => solver.close() },
  ], logger);
  exitOnSignals(shutdown, logger);
  solver.start();
  logger.info({ opsPort: ops.port }, 'solver ready');
}
