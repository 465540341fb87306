import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, exitOnSignals, Metrics, OpsServer, shutdownSequence } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Judge } from './judge.ts';

export { Judge };

/** The judge service: ValidateTasks over gRPC, rollout groups → experience stream. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('judge', config.SPAR_LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, 'judge');
  const metrics = new Metrics('judge');
  const judge = new Judge(config, redis, builtinRecipes(), logger, metrics);
  const ops = await OpsServer.start({ port: config.SPAR_OPS_PORT, registry: metrics.registry, ready: async () => redis.status === 'ready' && judge.grpcPort !== undefined });
  const shutdown = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'ops', close: () => ops.close() },
    { name: 'judge', close: () => judge.close() },
  ], logger);
  exitOnSignals(shutdown, logger);
  await judge.start();
  logger.info({ grpcPort: judge.grpcPort, opsPort: ops.port }, 'judge ready');
}
