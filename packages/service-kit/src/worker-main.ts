import { builtinRecipes, type RecipeRegistry } from '@spar/recipes';
import { createLogger, type Logger } from './logger.ts';
import { exitOnSignals, shutdownSequence } from './lifecycle.ts';
import { Metrics } from './metrics.ts';
import { OpsServer } from './ops-server.ts';
import { closeRedis, connectRedis, redisReady, type Redis } from './redis.ts';

/** What every worker service's config has. */
export interface WorkerBaseConfig {
  readonly REDIS_URL: string;
  readonly SPAR_OPS_PORT: number;
  readonly SPAR_LOG_LEVEL: string;
}

export interface WorkerService {
  start(): void | Promise<void>;
  close(): Promise<void>;
  /** Ready beyond Redis being connected (e.g. a gRPC server bound). */
  ready?(): boolean;
  /** Extra fields for the "ready" log line. */
  describe?(): Record<string, unknown>;
}

/**
 * The main() of a worker service (proposer, solver, judge, learner): one logger, Redis connection
 * and metrics registry; the ops server; SIGTERM closes the service, then ops, then Redis.
 */
export async function runWorkerService<C extends WorkerBaseConfig>(
  name: string, config: C,
  create: (deps: { config: C; redis: Redis; recipes: RecipeRegistry; logger: Logger; metrics: Metrics; exit: (code: number) => void }) => WorkerService,
  graceMs = 15000,
): Promise<void> {
  const logger = createLogger(name, config.SPAR_LOG_LEVEL);
  const redis = connectRedis(config.REDIS_URL, name, logger);
  const metrics = new Metrics(name);
  // The service asks to end the process (e.g. a fenced learner): the same ordered shutdown, then `code`.
  const exit = (code: number) => {
    logger.info({ code }, 'shutting down');
    void shutdown().finally(() => process.exit(code));
  };
  const service = create({ config, redis, recipes: builtinRecipes(), logger, metrics, exit });
  const ops = await OpsServer.start({ port: config.SPAR_OPS_PORT, registry: metrics.registry, ready: async () => (service.ready?.() ?? true) && (await redisReady(redis)) });
  const shutdown: () => Promise<void> = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'ops', close: () => ops.close() },
    { name, close: () => service.close() },
  ], logger, graceMs);
  exitOnSignals(shutdown, logger);
  await service.start();
  logger.info({ opsPort: ops.port, ...(service.describe?.() ?? {}) }, `${name} ready`);
}
