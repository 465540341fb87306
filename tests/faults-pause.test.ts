import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
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
    // Long enough for several pauses: the run is stopped once a redelivery has been seen.
    const id = await api.submit(experiment(`pause ${name}`, { maxSteps: 100000, maxMinutes: 10 }));
    const versions = watchPolicyVersions(redis, id);
    // The paused worker's queue (its jobs are redelivered) and the next one (its late results are refused there).
    const consumed = await watchQueue(name === 'solver' ? queues.tasks(id) : queues.rollouts(id));
    const produced = await watchQueue(queues.rollouts(id));
    await api.until(id, (r) => r.step >= 3);
    const paused = stack.services.find((s) => s.name === name)!;
    const other = name === 'solver' ? solver2 : judge2;
    const queue = new Queue(name === 'solver' ? queues.tasks(id) : queues.rollouts(id), { connection: { url: stack.redis.url }, prefix: BULL_PREFIX });
    const counts = () => queue.getJobCounts('waiting', 'active');
    const until = async (what: string, probe: () => Promise<boolean> | boolean, ms = 60000) => {
      for (const end = Date.now() + ms; !(await probe());) {
        assert.ok(Date.now() < end, `timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // Make sure the paused worker holds jobs when it stops (a judge is mostly idle between
    // groups): both replicas stopped until work queues up, the one under test woken until it has
    // taken some, then stopped again; the other replica resumes and must take them over.
    other.child.kill('SIGSTOP');
    paused.child.kill('SIGSTOP');
    try {
      await until(`${name} jobs to queue up`, async () => ((await counts()).waiting ?? 0) >= 2);
      paused.child.kill('SIGCONT');
      await until(`the ${name} to take jobs`, async () => ((await counts()).active ?? 0) >= 1);
      paused.child.kill('SIGSTOP');
    } finally {
      other.child.kill('SIGCONT');
    }
    await until('the paused worker\'s jobs to be redelivered (lock 2 s, stalled check 1 s)', () => consumed.stalled >= 1);
    paused.child.kill('SIGCONT');
    await queue.close();
    // Some steps after the last pause, so the late copies have come back; then a clean stop.
    const after = (await api.get(id)).step;
    await api.until(id, (r) => r.step >= after + 5);
    const done = await api.stop(id);
    assert.equal(done.state, 'stopped', done.reason);
    const seen = await versions.stop();
    const acct = await assertExactlyOnce(redis, id);
    await consumed.close();
    await produced.close();
    assert.ok(consumed.stalled >= 1, `a job the paused ${name} held was redelivered (stalled events: ${consumed.stalled})`);
    // The paused worker finished its copy on SIGCONT: refused as a duplicate, by BullMQ (a rollout
    // job id already queued) or by the judge's append script (a group already appended).
    const refused = (name === 'solver' ? produced.duplicated : 0) + acct.duplicateGroups;
    assert.ok(refused >= 1, `the paused ${name}'s late copy was refused (duplicated adds ${produced.duplicated}, duplicate groups ${acct.duplicateGroups})`);
    for (const s of [...stack.services, solver2, judge2]) assert.equal(s.child.exitCode, null, `${s.name} exited`);
    t.diagnostic(`${name} paused holding jobs (lock 2 s): ${consumed.stalled} redelivered, ${refused} duplicates refused; versions monotone (${seen.length}); ${JSON.stringify(acct)}`);
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
