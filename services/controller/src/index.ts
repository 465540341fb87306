import type { RecipeRegistry } from '@spar/recipes';
import { closeRedis, createLogger, exitOnSignals, guardListener, ExperimentStore, listServices, Metrics, newInstanceId, ServiceRegistration, shutdownSequence, writePortFile } from '@spar/service-kit';
import { connectApiRedis, redisChecks } from './api-redis.ts';
import { buildApp } from './app.ts';
import { limitsOf, loadConfig } from './config.ts';
import { QueueMonitor } from './queue-monitor.ts';

/** The controller: HTTP API, experiment lifecycle records, queue gauges. */
/** The controller's main(); `recipes` is the registry its bin.ts hands over (the built-in recipes). */
export async function main(recipes: RecipeRegistry): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('controller', config.SPAR_LOG_LEVEL);
  const host = config.SPAR_HTTP_HOST;
  guardListener({
    listener: 'HTTP API', address: `${host.includes(':') ? `[${host}]` : host}:${config.SPAR_HTTP_PORT}`,
    authenticated: config.SPAR_API_TOKEN !== undefined, remedy: 'SPAR_API_TOKEN', insecure: config.SPAR_INSECURE,
  }, logger);
  const redis = connectApiRedis(config.REDIS_URL, logger);
  const metrics = new Metrics('controller');
  const store = new ExperimentStore(redis);
  const monitor = new QueueMonitor(redis, store, metrics, logger.child({ component: 'queue-monitor' }));
  const app = await buildApp({
    store, recipes, metrics, logger, bodyLimit: config.SPAR_BODY_LIMIT, limits: limitsOf(config), apiToken: config.SPAR_API_TOKEN,
    ...redisChecks(redis), services: () => listServices(redis),
  });
  let registration: ServiceRegistration | undefined;
  const shutdown = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'monitor', close: () => monitor.close() },
    { name: 'http', close: () => app.close() },
    { name: 'registration', close: async () => { await registration?.close(); } },
  ], logger);
  exitOnSignals(shutdown, logger);
  await app.listen({ port: config.SPAR_HTTP_PORT, host: config.SPAR_HTTP_HOST });
  monitor.start();
  const port = (app.server.address() as { port: number }).port;
  writePortFile(port);
  registration = await ServiceRegistration.start(redis, { service: 'controller', id: newInstanceId(), ops: `${config.SPAR_ADVERTISE_HOST}:${port}` }, { logger });
  logger.info({ port, instance: registration.instance.id }, 'controller listening');
}
