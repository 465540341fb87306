import { builtinRecipes } from '@spar/recipes';
import { closeRedis, createLogger, ExperimentStore, Metrics } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { connectApiRedis, redisChecks } from '../src/api-redis.ts';
import { buildApp, type AppOptions } from '../src/app.ts';

export const TOKEN = 'secret-token-123';
export const auth = { authorization: `Bearer ${TOKEN}` };
/** The smallest valid config. */
export const good = { name: 'ttt', recipe: 'spiral-games', options: { games: ['tictactoe'] }, rollout: { maxNewTokens: 1 } };

export interface ControllerFixture {
  readonly app: Awaited<ReturnType<typeof buildApp>>;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** The controller's app over a real Redis of its own, for inject() tests. */
export async function startController(opts: Partial<Pick<AppOptions, 'bodyLimit' | 'limits'>> = {}): Promise<ControllerFixture> {
  const redis = await RedisServer.start();
  const conn = connectApiRedis(redis.url, createLogger('controller', 'error'));
  const metrics = new Metrics('controller', false);
  const app = await buildApp({
    store: new ExperimentStore(conn), recipes: builtinRecipes(), metrics, logger: createLogger('controller', 'error'),
    bodyLimit: opts.bodyLimit ?? 262144, limits: opts.limits, apiToken: TOKEN, ...redisChecks(conn),
  });
  return {
    app, metrics,
    async close() {
      await app.close();
      await closeRedis(conn);
      await redis.stop();
    },
  };
}
