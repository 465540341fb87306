import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, exitOnSignals, ExperimentStore, Metrics, redisReady, shutdownSequence, whenRedisReady } from '@spar/service-kit';
import { API_REDIS, buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { QueueMonitor } from './queue-monitor.ts';

/** The controller: HTTP API, experiment lifecycle records, queue gauges. */
export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('controller', config.SPAR_LOG_LEVEL);
  // The API answers 503 within 2 s while Redis is down: commands fail fast (see API_REDIS).
  const redis = connectRedis(config.REDIS_URL, 'controller', logger, { failFastMs: API_REDIS.commandTimeoutMs });
  const metrics = new Metrics('controller');
  const store = new ExperimentStore(redis);
  const monitor = new QueueMonitor(redis, store, metrics, logger.child({ component: 'queue-monitor' }));
  const app = await buildApp({
    store, recipes: builtinRecipes(), metrics, logger, bodyLimit: config.SPAR_BODY_LIMIT, apiToken: config.SPAR_API_TOKEN,
    ready: () => redisReady(redis),
    available: () => whenRedisReady(redis, API_REDIS.reconnectGraceMs),
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
