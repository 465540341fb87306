import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseExperiment } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { clientOptions, closeRedis, connectRedis, createLogger, CLIENT_OPTIONS, ExperimentStore, grpc, Metrics, sparProto, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { Judge } from '../src/judge.ts';
import { loadConfig } from '../src/config.ts';

const TOKEN = 'judge-token-0123456789abcdef';
let server: RedisServer;
let redis: Redis;
let judge: Judge;
let expId: string;

before(async () => {
  server = await RedisServer.start();
  const logger = createLogger('judge', 'error');
  redis = connectRedis(server.url, 'test', logger);
  const cfg = loadConfig({ REDIS_URL: server.url, SPAR_GRPC_HOST: '127.0.0.1', SPAR_GRPC_PORT: '0', SPAR_GRPC_TOKEN: TOKEN }, []);
  judge = new Judge(cfg, redis, builtinRecipes(), logger, new Metrics('judge', false));
  await judge.start();
  expId = (await new ExperimentStore(redis).create(parseExperiment({ name: 'j', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, builtinRecipes()))).id;
});
after(async () => {
  await judge?.close();
  await closeRedis(redis);
  await server?.stop();
});

const validate = (opts: grpc.ClientOptions) => {
  const { JudgeService } = sparProto();
  const client = new JudgeService(`127.0.0.1:${judge.grpcPort}`, grpc.credentials.createInsecure(), opts);
  return new Promise<{ results: { valid: boolean }[] }>((resolve, reject) => {
    client.ValidateTasks({ experiment_id: expId, tasks_json: [JSON.stringify({ game: 'tictactoe', seed: 3 })] }, { deadline: Date.now() + 20000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res as never);
    });
  });
};

test('SPAR_GRPC_TOKEN: ValidateTasks without the token or with a wrong one is UNAUTHENTICATED; with it, served', async () => {
  const unauthenticated = (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED;
  await assert.rejects(validate(CLIENT_OPTIONS), unauthenticated);
  await assert.rejects(validate(clientOptions('judge-token-0123456789abcdeX')), unauthenticated);
  const res = await validate(clientOptions(TOKEN));
  assert.deepEqual(res.results.map((r) => r.valid), [true]);
});

test('SPAR_GRPC_TOKEN shorter than 16 characters is a configuration error', () => {
  assert.throws(() => loadConfig({ SPAR_GRPC_TOKEN: 'short' }, []), /SPAR_GRPC_TOKEN/);
});
