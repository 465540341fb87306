import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { keys, queues } from '@spar/core';
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

/** The duplicate groups the judge's append script refused so far. */
const duplicateGroups = async (id: string) => Number((await redis.hget(keys.counters(id), 'duplicate_groups')) ?? 0);

async function until(what: string, probe: () => Promise<boolean> | boolean, ms = 120000): Promise<void> {
  for (const end = Date.now() + ms; !(await probe());) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const name of ['solver', 'judge'] as const) {
  test(`${name} paused past its job lock while a second ${name} runs: redelivered, duplicates refused, exactly once`, async (t) => {
    // Long enough for several pauses: the run is stopped once the late copy has been refused.
    const id = await api.submit(experiment(`pause ${name}`, { maxSteps: 100000, maxMinutes: 10 }));
    const versions = watchPolicyVersions(redis, id);
    // The paused worker's queue (its jobs are redelivered) and the next one (its late results are refused there).
    const consumed = await watchQueue(name === 'solver' ? queues.tasks(id) : queues.rollouts(id));
    const produced = await watchQueue(queues.rollouts(id));
    const paused = stack.services.find((s) => s.name === name)!;
    const other = name === 'solver' ? solver2 : judge2;
    const queue = new Queue(name === 'solver' ? queues.tasks(id) : queues.rollouts(id), { connection: { url: stack.redis.url }, prefix: BULL_PREFIX });
    const counts = () => queue.getJobCounts('waiting', 'active');
    const refused = async () => (name === 'solver' ? produced.duplicated : 0) + (await duplicateGroups(id));
    try {
      await api.until(id, (r) => r.step >= 3);
      // Make sure the paused worker holds jobs when it stops (a judge finishes a group in
      // milliseconds): both replicas stopped until work queues up, the one under test woken until
      // it has taken some, then stopped again — and only if, with both stopped, more jobs are
      // active than the other replica held when it stopped (so the paused one holds some) does the
      // other replica resume and take them over; else again.
      for (let attempt = 1; ; attempt++) {
        other.child.kill('SIGSTOP');
        paused.child.kill('SIGSTOP');
        await until(`${name} jobs to queue up`, async () => ((await counts()).waiting ?? 0) >= 2);
        // A solver holds its jobs for a whole generation; a judge finishes one in milliseconds, so
        // for it only jobs beyond those the other replica held when stopped prove the paused one holds some.
        const held = name === 'judge' ? (await counts()).active ?? 0 : 0;
        paused.child.kill('SIGCONT');
        await until(`the ${name} to take jobs`, async () => ((await counts()).active ?? 0) > held);
        paused.child.kill('SIGSTOP');
        if (((await counts()).active ?? 0) > held) break;
        assert.ok(attempt < 50, `the ${name} never held a job when stopped (50 attempts)`);
        paused.child.kill('SIGCONT');
        other.child.kill('SIGCONT');
      }
      other.child.kill('SIGCONT');
      await until('the paused worker\'s jobs to be redelivered (lock 2 s, stalled check 1 s)', () => consumed.stalled >= 1);
      paused.child.kill('SIGCONT');
      // The paused worker finishes its copy after SIGCONT: refused as a duplicate, by BullMQ (a
      // rollout job id already queued) or by the judge's append script (a group already appended).
      await until(`the paused ${name}'s late copy to be refused`, async () => (await refused()) >= 1);
    } catch (err) {
      // Leave nothing behind for the next test: the learner holds one experiment at a time.
      for (const s of [paused, other]) s.child.kill('SIGCONT');
      await api.stop(id).catch(() => undefined);
      // Watchers left open would keep this file's process alive after the stack is gone.
      await versions.stop().catch(() => undefined);
      await consumed.close();
      await produced.close();
      throw err;
    } finally {
      for (const s of [paused, other]) s.child.kill('SIGCONT');
      await queue.close();
    }
    const done = await api.stop(id);
    assert.equal(done.state, 'stopped', done.reason);
    const seen = await versions.stop();
    const acct = await assertExactlyOnce(redis, id);
    await consumed.close();
    await produced.close();
    assert.ok(consumed.stalled >= 1, `a job the paused ${name} held was redelivered (stalled events: ${consumed.stalled})`);
    const late = (name === 'solver' ? produced.duplicated : 0) + acct.duplicateGroups;
    assert.ok(late >= 1, `the paused ${name}'s late copy was refused (duplicated adds ${produced.duplicated}, duplicate groups ${acct.duplicateGroups})`);
    for (const s of [...stack.services, solver2, judge2]) assert.equal(s.child.exitCode, null, `${s.name} exited`);
    t.diagnostic(`${name} paused holding jobs (lock 2 s): ${consumed.stalled} redelivered, ${late} duplicates refused; versions monotone (${seen.length}); ${JSON.stringify(acct)}`);
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
