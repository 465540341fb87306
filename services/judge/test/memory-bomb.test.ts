import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { UnrecoverableError } from 'bullmq';
import { parseExperiment, type RolloutJob } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, CLIENT_OPTIONS, experimentContext, ExperimentStore, grpc, Metrics, sparProto, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { loadConfig } from '../src/config.ts';
import { Judge } from '../src/judge.ts';

// A memory bomb through the real judge: its config (SPAR_SANDBOX_MEMORY_MB), its sandbox pool,
// its group judging and its metrics, with the one hostile call a test needs (fixtures/: no recipe
// can allocate without bound). Memory outside the V8 heap is capped too.
const BOMB_WORKER = new URL('./fixtures/memory-bomb-worker.ts', import.meta.url);
const recipes = builtinRecipes();
let server: RedisServer;
let redis: Redis;
let judge: Judge;
let metrics: Metrics;

before(async () => {
  server = await RedisServer.start();
  redis = connectRedis(server.url, 'test', createLogger('test', 'error'));
  metrics = new Metrics('judge', false);
  const cfg = loadConfig({ REDIS_URL: server.url, SPAR_GRPC_PORT: '0', SPAR_SANDBOX_THREADS: '1', SPAR_SANDBOX_HEAP_MB: '64', SPAR_SANDBOX_MEMORY_MB: '600', SPAR_JUDGE_TIMEOUT_MS: '60000' }, []);
  judge = new Judge(cfg, redis, recipes, createLogger('judge', 'error'), metrics, BOMB_WORKER);
  await judge.start();
});
after(async () => {
  await judge?.close();
  await closeRedis(redis);
  await server?.stop();
});

test('a group whose judging allocates without bound, on the heap or outside it, is dropped alone; the judge keeps serving', async () => {
  const rec = await new ExperimentStore(redis).create(parseExperiment({ name: 'bomb', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, recipes));
  const ctx = experimentContext(rec, recipes);
  const group = (task: unknown, gid: string): RolloutJob => ({
    envelope: { experimentId: rec.id, recipe: 'spiral-games', role: 'solver', policyVersion: 0, taskId: 't', groupId: gid, trajectoryId: '', parentIds: [], createdAt: new Date().toISOString() },
    task, rollouts: [],
  });
  for (const [bomb, why] of [['buffer-bomb', /out of memory \(\d+ MiB resident, cap 600 MiB\)/], ['memory-bomb', /out of memory \(heap limit 64 MiB\)/]] as const) {
    await assert.rejects(judge.judgeGroup(ctx, group(bomb, `g-${bomb}`)), (e: Error) => e instanceof UnrecoverableError && why.test(e.message) && /group dropped/.test(e.message));
  }
  const crashed = (await metrics.registry.getSingleMetricAsString('spar_judge_sandbox_failures_total')).split('\n').find((l) => l.includes('reason="crashed"'));
  assert.match(crashed ?? '', / 2$/, `both counted: ${crashed}`);
  // The replaced sandbox process validates the next tasks.
  const { JudgeService } = sparProto();
  const client = new JudgeService(`127.0.0.1:${judge.grpcPort}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  try {
    const res = await new Promise<{ results: { valid: boolean }[] }>((resolve, reject) => {
      client.ValidateTasks({ experiment_id: rec.id, tasks_json: [JSON.stringify({ game: 'tictactoe', seed: 4 })] } as never, { deadline: Date.now() + 30000 }, (err, r) => (err ? reject(err) : resolve(r as never)));
    });
    assert.deepEqual(res.results.map((r) => r.valid), [true]);
  } finally {
    client.close();
  }
});
