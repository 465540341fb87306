import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { startStack, type Stack } from '@spar/testing';
import { experimentsApi } from './experiments-api.ts';

// Staleness-aware admission on a real stack: while the learner is frozen (SIGSTOP), solvers stop
// at the shared budget instead of filling the stream; without admission they do not stop.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BATCH = 24;
const STALENESS = 1;
const BUDGET = (STALENESS + 1) * BATCH;
const experiment = (name: string, admission: 'staleness' | 'off') => ({
  name, recipe: 'spiral-games', options: { games: ['tictactoe'] },
  policy: { layers: 1, dModel: 16, heads: 2, context: 24, seed: 7 },
  rollout: { groupSize: 4, maxNewTokens: 1, concurrency: 4, maxQueuedTasks: 8, admission },
  learner: { batchSize: BATCH, maxStaleness: STALENESS, checkpointEvery: 1000 },
  eval: { every: 0, episodes: 10 }, budget: { maxSteps: 1000000, maxMinutes: 10 },
});

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
before(async () => {
  stack = await startStack(ROOT);
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Trajectories judged but not consumed, and admission tokens in flight. */
async function backlog(id: string): Promise<{ unconsumed: number; inflight: number; perGroup: number }> {
  const c = await redis.hgetall(keys.counters(id));
  const appended = Number(c.appended_trajectories ?? 0);
  const groups = Number(c.appended_groups ?? 0);
  return {
    unconsumed: appended - Number(c.learner_consumed_trajectories ?? 0),
    inflight: await redis.zcount(keys.inflight(id), Date.now(), '+inf'),
    perGroup: groups ? appended / groups : 0,
  };
}

/**
 * Freeze the learner for `ms` and return the backlog just before it thaws; with `enough`, thaw as
 * soon as the backlog satisfies it (checked every 250 ms), freezing at most `ms`.
 */
async function freezeLearner(ms: number, id: string, enough?: (b: Awaited<ReturnType<typeof backlog>>) => boolean) {
  const learner = stack.services.find((s) => s.name === 'learner')!;
  learner.child.kill('SIGSTOP');
  try {
    if (!enough) {
      await sleep(ms);
      return await backlog(id);
    }
    for (const end = Date.now() + ms; ;) {
      const b = await backlog(id);
      if (enough(b) || Date.now() >= end) return b;
      await sleep(250);
    }
  } finally {
    learner.child.kill('SIGCONT');
  }
}

test('admission: a frozen learner stops the solvers at the shared budget; after it thaws the run goes on with few stale drops', async (t) => {
  const id = await api.submit(experiment('admission on', 'staleness'));
  await api.until(id, (r) => r.step >= 3);
  const frozen = await freezeLearner(4000, id);
  // One group of slack: a token is taken while used < budget, and a TicTacToe group of 4 games
  // holds at most 4 × 9 trajectories.
  const used = frozen.unconsumed + frozen.inflight * frozen.perGroup;
  t.diagnostic(`frozen backlog ${JSON.stringify(frozen)}: ${used.toFixed(0)} trajectories, budget ${BUDGET}`);
  assert.ok(used <= BUDGET + 36, `backlog ${JSON.stringify(frozen)} = ${used} trajectories over the budget ${BUDGET}`);
  const step = (await api.get(id)).step;
  await api.until(id, (r) => r.step >= step + 5);
  const done = await api.stop(id);
  assert.equal(done.state, 'stopped');
  const stale = done.metrics.droppedStale ?? 0;
  t.diagnostic(`stale drops ${stale} of ${stale + done.metrics.ingested!}`);
  assert.ok(stale / (stale + done.metrics.ingested!) < 0.25, `stale share ${stale}/${stale + done.metrics.ingested!}`);
});

test('admission off: a frozen learner does not stop the solvers (the contrast that makes the first test meaningful)', async (t) => {
  const id = await api.submit(experiment('admission off', 'off'));
  await api.until(id, (r) => r.step >= 3);
  // Frozen until the backlog passes twice the budget admission would keep: at most 8 s (twice the
  // first test's freeze, for a slow machine) and well inside the learner's 15 s lease.
  const frozen = await freezeLearner(8000, id, (b) => b.unconsumed > 2 * BUDGET);
  t.diagnostic(`frozen backlog without admission: ${frozen.unconsumed} trajectories`);
  assert.equal(frozen.inflight, 0, 'no tokens without admission');
  assert.ok(frozen.unconsumed > 2 * BUDGET, `backlog of ${frozen.unconsumed} trajectories while frozen (budget would be ${BUDGET})`);
  assert.equal((await api.stop(id)).state, 'stopped');
});
