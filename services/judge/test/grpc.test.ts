import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseExperiment } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, CLIENT_OPTIONS, ExperimentStore, grpc, Metrics, sparProto, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { Judge } from '../src/judge.ts';
import { loadConfig } from '../src/config.ts';

let server: RedisServer;
let redis: Redis;
let judge: Judge;
let metrics: Metrics;
let client: InstanceType<ReturnType<typeof sparProto>['JudgeService']>;
let expId: string;

before(async () => {
  server = await RedisServer.start();
  redis = connectRedis(server.url, 'test', createLogger('test', 'error'));
  metrics = new Metrics('judge', false);
  const cfg = loadConfig({ REDIS_URL: server.url, SPAR_GRPC_HOST: '127.0.0.1', SPAR_GRPC_PORT: '0', SPAR_MAX_TASKS_PER_CALL: '4' }, []);
  judge = new Judge(cfg, redis, builtinRecipes(), createLogger('judge', 'error'), metrics);
  await judge.start();
  const { JudgeService } = sparProto();
  client = new JudgeService(`127.0.0.1:${judge.grpcPort}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  const rec = await new ExperimentStore(redis).create(parseExperiment({ name: 'j', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, builtinRecipes()));
  expId = rec.id;
});
after(async () => {
  client?.close();
  await judge?.close();
  await closeRedis(redis);
  await server?.stop();
});

const call = (req: object) => new Promise<{ results: { valid: boolean; reason: string; canonical: string; task_json: string }[] }>((resolve, reject) => {
  client.ValidateTasks(req as never, { deadline: Date.now() + 20000 }, (err, res) => (err ? reject(err) : resolve(res as never)));
});

test('ValidateTasks: valid and invalid tasks get per-task verdicts with reasons', async () => {
  const res = await call({ experiment_id: expId, tasks_json: [JSON.stringify({ game: 'tictactoe', seed: 3 }), '{not json', JSON.stringify({ game: 'chess', seed: 1 })] });
  assert.deepEqual(res.results.map((r) => r.valid), [true, false, false]);
  assert.equal(res.results[0]!.canonical, 'tictactoe:3');
  assert.match(res.results[1]!.reason, /malformed JSON/);
  assert.ok(res.results[2]!.reason.length > 0);
});

test('malformed gRPC requests get clear status codes, are counted, and crash nothing', async () => {
  await assert.rejects(call({ tasks_json: ['{}'] }), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /experiment_id/.test(e.details));
  await assert.rejects(call({ experiment_id: expId, tasks_json: Array(5).fill('{}') }), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
  await assert.rejects(call({ experiment_id: 'no-such-experiment', tasks_json: ['{}'] }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
  // Raw bytes that are not a ValidateTasksRequest: the server answers with an error status.
  const raw = new grpc.Client(`127.0.0.1:${judge.grpcPort}`, grpc.credentials.createInsecure());
  const status = await new Promise<grpc.ServiceError | null>((resolve) => {
    raw.makeUnaryRequest('/spar.v1.JudgeService/ValidateTasks', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]), { deadline: Date.now() + 5000 }, (err) => resolve(err));
  });
  raw.close();
  assert.ok(status && status.code !== grpc.status.OK, 'garbage bytes are refused');
  // Still serving afterwards.
  const ok = await call({ experiment_id: expId, tasks_json: [JSON.stringify({ game: 'kuhn', seed: 1 })] });
  assert.equal(ok.results.length, 1);
  const text = await metrics.registry.getSingleMetricAsString('spar_bad_input_total');
  assert.match(text, /kind="malformed_grpc"/);
});
