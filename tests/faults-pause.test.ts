import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { queues } from '@spar/core';
import { BULL_PREFIX } from '@spar/service-kit';
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

/** BullMQ's own events of one queue: jobs whose lock lapsed (redelivered), and adds refused as duplicates. */
async function watchQueue(queue: string): Promise<{ stalled: number; duplicated: number; close(): Promise<void> }> {
  const events = new QueueEvents(queue, { connection: { url: stack.redis.url }, prefix: BULL_PREFIX });
  await events.waitUntilReady();
  const seen = { stalled: 0, duplicated: 0, close: () => events.close() };
  events.on('stalled', () => { seen.stalled++; });
  events.on('duplicated', () => { seen.duplicated++; });
  return seen;
}

for (const name of ['solver', 'judge'] as const) {
  test(`${name} paused past its job lock while a second ${name} runs: redelivered, duplicates refused, exactly once`, async (t) => {
    const id = await api.submit(experiment(`pause ${name}`));
    const versions = watchPolicyVersions(redis, id);
    // The paused worker's queue (its jobs are redelivered) and the next one (its late results are refused there).
    const consumed = await watchQueue(name === 'solver' ? queues.tasks(id) : queues.rollouts(id));
    const produced = await watchQueue(queues.rollouts(id));
    await api.until(id, (r) => r.step >= 3);
    const paused = stack.services.find((s) => s.name === name)!;
    // Paused past three lock periods; again (up to three pauses) if it happened to hold no job.
    let pauses = 0;
    while (consumed.stalled === 0 && pauses < 3 && (await api.get(id)).state === 'running') {
      pauses++;
      paused.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 6000));
      paused.child.kill('SIGCONT');
      for (const end = Date.now() + 5000; consumed.stalled === 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
    }
    const done = await api.finished(id);
    assert.equal(done.state, 'completed', done.reason);
    assert.equal(done.step, STEPS);
    const seen = await versions.stop();
    const acct = await assertExactlyOnce(redis, id);
    await consumed.close();
    await produced.close();
    assert.ok(consumed.stalled >= 1, `a job the paused ${name} held was redelivered (stalled events: ${consumed.stalled}, pauses: ${pauses})`);
    // The paused worker finished its copy on SIGCONT: refused as a duplicate, by BullMQ (a rollout
    // job id already queued) or by the judge's append script (a group already appended).
    const refused = (name === 'solver' ? produced.duplicated : 0) + acct.duplicateGroups;
    assert.ok(refused >= 1, `the paused ${name}'s late copy was refused (duplicated adds ${produced.duplicated}, duplicate groups ${acct.duplicateGroups})`);
    for (const s of [...stack.services, solver2, judge2]) assert.equal(s.child.exitCode, null, `${s.name} exited`);
    t.diagnostic(`${name} paused ${pauses}× 6 s (lock 2 s): ${consumed.stalled} redelivered, ${refused} duplicates refused; versions monotone (${seen.length}); ${JSON.stringify(acct)}`);
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
