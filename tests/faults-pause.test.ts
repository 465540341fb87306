import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startStack, type RunningService, type Stack } from '@spar/testing';
import { assertExactlyOnce, watchPolicyVersions } from './accounting.ts';
import { experimentsApi } from './experiments-api.ts';
import { QUICK_LOCKS, tinyExperiment } from './tiny-experiment.ts';

// Workers paused (SIGSTOP) past their BullMQ job lock while a second replica is up: the jobs are
// redelivered to it, the paused one finishes its copies on SIGCONT, the judge's append script
// refuses the groups appended twice, and the accounting still balances. Then every solver gone
// for good: the run ends failed as stalled when its time budget runs out, not completed.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const STEPS = 40;
const experiment = (name: string, budget = { maxSteps: STEPS, maxMinutes: 10 }) => tinyExperiment(name, { seed: 13, budget });

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
let solver2: RunningService;
let judge2: RunningService;
before(async () => {
  stack = await startStack(ROOT, {
    env: {
      learner: { SPAR_LEASE_MS: '2000', SPAR_POLL_MS: '100', SPAR_STALL_MS: '5000' }, judge: QUICK_LOCKS,
      solver: { ...QUICK_LOCKS, SPAR_ADMISSION_TTL_MS: '2000' }, proposer: { SPAR_JUDGE_DEADLINE_MS: '1000' },
    },
  });
  solver2 = await stack.startReplica('solver');
  judge2 = await stack.startReplica('judge');
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

for (const name of ['solver', 'judge'] as const) {
  test(`${name} paused past its job lock while a second ${name} runs: redelivered, duplicates refused, exactly once`, async (t) => {
    const id = await api.submit(experiment(`pause ${name}`));
    const versions = watchPolicyVersions(redis, id);
    await api.until(id, (r) => r.step >= 3);
    const paused = stack.services.find((s) => s.name === name)!;
    paused.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 6000)); // three lock periods
    paused.child.kill('SIGCONT');
    const done = await api.finished(id);
    assert.equal(done.state, 'completed', done.reason);
    assert.equal(done.step, STEPS);
    const seen = await versions.stop();
    const acct = await assertExactlyOnce(redis, id);
    for (const s of [...stack.services, solver2, judge2]) assert.equal(s.child.exitCode, null, `${s.name} exited`);
    t.diagnostic(`${name} paused 6 s (lock 2 s): versions monotone (${seen.length}); ${JSON.stringify(acct)}`);
  });
}

test('every solver gone: the run ends failed as stalled when its time budget runs out, never completed', async (t) => {
  const id = await api.submit(experiment('stall', { maxSteps: 1000000, maxMinutes: 1 }));
  await api.until(id, (r) => r.step >= 3);
  await stack.kill('solver', 'SIGKILL');
  solver2.child.kill('SIGKILL');
  await solver2.exited;
  const killedAt = Date.now();
  const done = await api.finished(id, 120000);
  assert.equal(done.state, 'failed');
  assert.match(done.reason ?? '', /^stalled: no batch for \d+ s when the time budget ran out/);
  assert.ok(done.artifacts?.onnx, 'still exported what it learned');
  t.diagnostic(`stall: ended ${done.state} ${Math.round((Date.now() - killedAt) / 1000)} s after the last solver died: ${done.reason}`);
});
