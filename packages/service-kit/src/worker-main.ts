import type { RecipeRegistry } from '@spar/recipes';
import { createLogger, type Logger } from './logger.ts';
import { exitOnSignals, shutdownSequence } from './lifecycle.ts';
import { Metrics } from './metrics.ts';
import { OpsServer } from './ops-server.ts';
import { closeRedis, connectRedis, redisReady, type Redis } from './redis.ts';
import { newInstanceId, ServiceRegistration, writePortFile } from './registry.ts';

/** What every worker service's config has. */
export interface WorkerBaseConfig {
  readonly REDIS_URL: string;
  readonly SPAR_OPS_PORT: number;
  /** Where the ops server binds (default 127.0.0.1). */
  readonly SPAR_OPS_HOST: string;
  readonly SPAR_LOG_LEVEL: string;
  /** Host registered with this replica's ports (service discovery); default 127.0.0.1. */
  readonly SPAR_ADVERTISE_HOST?: string;
}

export interface WorkerService {
  start(): void | Promise<void>;
  close(): Promise<void>;
  /** Ready beyond Redis being connected (e.g. a gRPC server bound). */
  ready?(): boolean;
  /** Extra fields for the "ready" log line. */
  describe?(): Record<string, unknown>;
  /** The bound gRPC port, for services that serve gRPC (registered for discovery). */
  grpcPort?(): number | undefined;
}

/**
 * The main() of a worker service (proposer, solver, judge, learner): one logger, Redis connection
 * and metrics registry; the ops server; SIGTERM closes the service, then ops, then Redis. The
 * recipe registry comes from the service's bin.ts.
 */
export async function runWorkerService<C extends WorkerBaseConfig>(
  name: string, config: C, recipes: RecipeRegistry,
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
  const service = create({ config, redis, recipes, logger, metrics, exit });
  const ops = await OpsServer.start({ host: config.SPAR_OPS_HOST, port: config.SPAR_OPS_PORT, registry: metrics.registry, ready: async () => (service.ready?.() ?? true) && (await redisReady(redis)) });
  writePortFile(ops.port);
  let registration: ServiceRegistration | undefined;
  const shutdown: () => Promise<void> = shutdownSequence([
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'ops', close: () => ops.close() },
    { name, close: () => service.close() },
    // First: others stop routing to this replica before it stops serving.
    { name: 'registration', close: async () => { await registration?.close(); } },
  ], logger, graceMs);
  exitOnSignals(shutdown, logger);
  await service.start();
  const host = config.SPAR_ADVERTISE_HOST ?? '127.0.0.1';
  const grpcPort = service.grpcPort?.();
  registration = await ServiceRegistration.start(redis, {
    service: name, id: newInstanceId(), ops: `${host}:${ops.port}`, ...(grpcPort !== undefined ? { grpc: `${host}:${grpcPort}` } : {}),
  }, { logger });
  logger.info({ opsPort: ops.port, instance: registration.instance.id, ...(service.describe?.() ?? {}) }, `${name} ready`);
}
