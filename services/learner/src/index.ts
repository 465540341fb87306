import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, exitOnSignals, Metrics, OpsServer, shutdownSequence } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { LearnerService } from './learner.ts';

export { LearnerService };

/** The learner service: experience → advantages → train step → published policy versions. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('learner', config.SPAR_LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, 'learner');
  const metrics = new Metrics('learner');
  const learner = new LearnerService(config, redis, builtinRecipes(), logger, metrics);
  const ops = await OpsServer.start({ port: config.SPAR_OPS_PORT, registry: metrics.registry, ready: async () => redis.status === 'ready' && learner.grpcPort !== undefined });
  const shutdown = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'ops', close: () => ops.close() },
    { name: 'learner', close: () => learner.close() },
  ], logger, 60000);
  exitOnSignals(shutdown, logger);
  await learner.start();
  logger.info({ grpcPort: learner.grpcPort, opsPort: ops.port }, 'learner ready');
}
