import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { startStack, type Stack } from '@spar/testing';
import { experimentsApi } from './experiments-api.ts';

// The warm-start stage on a real stack: supervised steps on the recipe's examples before
// self-play, checkpointed (a learner killed mid-stage resumes it, not restarts it), evaluated
// before and after; and a warm start from an earlier experiment's weights.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const WARM_STEPS = 40;
const rzero = (name: string, warmStart: object, maxSteps = 4) => ({
  name, recipe: 'r-zero',
  policy: { layers: 1, dModel: 16, heads: 2, context: 32, seed: 3 },
  rollout: { groupSize: 4, maxNewTokens: 8, concurrency: 2, maxQueuedTasks: 4 },
  learner: { batchSize: 16, maxStaleness: 1000, checkpointEvery: 2, loss: { kind: 'ppo', klCoef: 0.1 } },
  eval: { every: 0, episodes: 16 },
  budget: { maxSteps, maxMinutes: 10 },
  warmStart,
});

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
before(async () => {
  stack = await startStack(ROOT, { env: { learner: { SPAR_LEASE_MS: '2000', SPAR_POLL_MS: '100' } } });
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

let sftId = '';

test('warm start (sft): kill -9 mid-stage resumes from its checkpoint; evaluated before and after; then self-play completes', async () => {
  sftId = await api.submit(rzero('warm sft', { from: 'sft', steps: WARM_STEPS, batchSize: 16, lr: 0.003, checkpointEvery: 5 }));
  const mid = await api.until(sftId, (r) => (r.warmStart?.step ?? 0) >= 10 && r.warmStart?.state === 'running');
  assert.equal(mid.policyVersion, 0, 'nothing published during the warm start');
  await stack.kill('learner', 'SIGKILL');
  assert.ok(Number(await redis.hget(keys.counters(sftId), 'warmstart_checkpoint_step')) >= 5, 'a committed stage checkpoint to resume from');
  await stack.restart('learner');
  const done = await api.finished(sftId);
  assert.equal(done.state, 'completed', done.reason);
  const ws = done.warmStart!;
  assert.equal(ws.state, 'done');
  assert.equal(ws.step, WARM_STEPS);
  assert.ok(ws.evalBefore?.arith && ws.eval?.arith, 'held-out evaluation before and after the stage');
  const stageEvals = done.evaluations.filter((e) => e.stage === 'warmstart');
  assert.deepEqual(stageEvals.map((e) => e.step), [0, WARM_STEPS], 'resumed, not restarted: one evaluation at step 0');
  assert.equal(done.step, 4, 'self-play counts its own steps from 0');
  assert.ok(done.policyVersion > WARM_STEPS, 'versions continue above the warm-start updates');
});

test('warm start from an earlier experiment: its final weights, evaluated exactly as it ended', async () => {
  const source = await api.get(sftId);
  const id = await api.submit(rzero('warm from experiment', { from: 'experiment', id: sftId }, 2));
  const done = await api.finished(id);
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.warmStart?.state, 'done');
  assert.deepEqual(done.warmStart?.eval, source.eval, 'greedy held-out evaluation of the same weights gives the same figures');
});

test('warm start refused at submit (400): a source of another shape (both shapes named), a missing source, a recipe without examples', async () => {
  const bigger = { ...rzero('warm mismatch', { from: 'experiment', id: sftId }), policy: { layers: 1, dModel: 32, heads: 2, context: 32, seed: 3 } };
  const r = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bigger) });
  assert.equal(r.status, 400);
  const { errors } = (await r.json()) as { errors: { path: string; message: string }[] };
  assert.equal(errors[0]!.path, '/warmStart/id');
  assert.ok(errors[0]!.message.includes('"dModel":32') && errors[0]!.message.includes('"dModel":16'), errors[0]!.message);
  const missing = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rzero('warm none', { from: 'experiment', id: 'no-such' })) });
  assert.equal(missing.status, 400);
  assert.match(await missing.text(), /no experiment 'no-such'/);
  const games = { name: 'warm games', recipe: 'spiral-games', options: { games: ['kuhn'] }, rollout: { maxNewTokens: 1 }, warmStart: { from: 'sft', steps: 10 } };
  const noExamples = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(games) });
  assert.equal(noExamples.status, 400);
  assert.match(await noExamples.text(), /spiral-games supplies no warm-start examples/);
});
