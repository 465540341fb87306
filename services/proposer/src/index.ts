import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, exitOnSignals, Metrics, OpsServer, shutdownSequence } from '@spar/service-kit';
import { loadConfig } from './config.ts';
import { Proposer } from './proposer.ts';

export { Proposer };

/** The proposer service: keeps tasks queues filled with judge-validated tasks. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('proposer', config.SPAR_LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, 'proposer');
  const metrics = new Metrics('proposer');
  const proposer = new Proposer(config, redis, builtinRecipes(), logger, metrics);
  const ops = await OpsServer.start({ port: config.SPAR_OPS_PORT, registry: metrics.registry, ready: () => redis.status === 'ready' });
  const shutdown = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'ops', close: () => ops.close() },
    { name: 'proposer', close: () => proposer.close() },
  ], logger);
  exitOnSignals(shutdown, logger);
  proposer.start();
  logger.info({ opsPort: ops.port }, 'proposer ready');
}
