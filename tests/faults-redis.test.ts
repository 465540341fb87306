import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { startStack, type Stack } from '@spar/testing';
import { assertExactlyOnce, watchPolicyVersions } from './accounting.ts';
import { experimentsApi } from './experiments-api.ts';
import { tinyExperiment } from './tiny-experiment.ts';

// Redis itself crashing mid-run. With AOF (fsync always) it comes back with everything it
// acknowledged, and the run completes exactly once. Without persistence it comes back empty: the
// experiment must end `failed` with a reason — never `completed`, never silently gone.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const experiment = (name: string, maxSteps: number) => tinyExperiment(name, { seed: 11, budget: { maxSteps, maxMinutes: 10 } });
const env = { learner: { SPAR_LEASE_MS: '3000', SPAR_POLL_MS: '100' }, solver: { SPAR_ADMISSION_TTL_MS: '3000' } };

const stacks: Stack[] = [];
after(async () => { for (const s of stacks) await s.stop(); });

test('redis kill -9 mid-run, restarted from its AOF: the run completes exactly once', async (t) => {
  const stack = await startStack(ROOT, { appendOnly: true, appendFsync: 'always', env });
  stacks.push(stack);
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const api = experimentsApi(stack);
  try {
    const id = await api.submit(experiment('redis crash', 40));
    await api.until(id, (r) => r.step >= 3);
    const versions = watchPolicyVersions(redis, id);
    await stack.redis.kill();
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await stack.redis.restart();
    const step = (await api.until(id, () => true)).step;
    const moved = await api.until(id, (r) => r.step > step || r.state !== 'running');
    const recoverMs = Date.now() - killedAt;
    const done = await api.finished(id);
    assert.equal(done.state, 'completed', done.reason);
    assert.equal(done.step, 40);
    const seen = await versions.stop();
    const acct = await assertExactlyOnce(redis, id);
    for (const s of stack.services) assert.equal(s.child.exitCode, null, `${s.name} exited`);
    t.diagnostic(`redis kill -9 (AOF): progress again ${recoverMs} ms after the kill (step ${moved.step}); versions monotone (${seen.length}); ${JSON.stringify(acct)}`);
  } finally {
    redis.disconnect();
  }
});

test('redis restarted without persistence: the experiment ends failed with a reason, never completed', async (t) => {
  const stack = await startStack(ROOT, { appendOnly: false, env });
  stacks.push(stack);
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const api = experimentsApi(stack);
  try {
    const id = await api.submit(experiment('redis wiped', 1000000));
    await api.until(id, (r) => r.step >= 3);
    await stack.redis.restart();
    const restartedAt = Date.now();
    assert.equal(await redis.exists(keys.fence(id)), 0, 'the restart lost everything');
    const done = await api.finished(id, 60000);
    assert.equal(done.state, 'failed');
    assert.match(done.reason ?? '', /Redis lost this experiment's state/);
    t.diagnostic(`redis wiped: experiment failed ${Date.now() - restartedAt} ms after the restart: ${done.reason}`);
    for (const s of stack.services) assert.equal(s.child.exitCode, null, `${s.name} exited`);
  } finally {
    redis.disconnect();
  }
});
