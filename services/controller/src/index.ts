import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, exitOnSignals, ExperimentStore, Metrics, shutdownSequence } from '@spar/service-kit';
import { buildApp } from './app.ts';
import { limitsOf, loadConfig } from './config.ts';
import { QueueMonitor } from './queue-monitor.ts';

/** The controller: HTTP API, experiment lifecycle records, queue gauges. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('controller', config.SPAR_LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, 'controller');
  const metrics = new Metrics('controller');
  const store = new ExperimentStore(redis);
  const monitor = new QueueMonitor(redis, store, metrics);
  const app = await buildApp({
    store, recipes: builtinRecipes(), metrics, logger, bodyLimit: config.SPAR_BODY_LIMIT, limits: limitsOf(config), apiToken: config.SPAR_API_TOKEN,
    ready: async () => (await redis.ping()) === 'PONG',
  });
  const shutdown = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'monitor', close: () => monitor.close() },
    { name: 'http', close: () => app.close() },
  ], logger);
  exitOnSignals(shutdown, logger);
  await app.listen({ port: config.SPAR_HTTP_PORT, host: config.SPAR_HTTP_HOST });
  monitor.start();
  logger.info({ port: (app.server.address() as { port: number }).port }, 'controller listening');
}
