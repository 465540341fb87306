import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { startStack, waitHttp, type Stack } from '@spar/testing';
import { assertExactlyOnce, watchPolicyVersions } from './accounting.ts';
import { experimentsApi } from './experiments-api.ts';
import { tinyExperiment } from './tiny-experiment.ts';

// Learner restart, takeover and hang scenarios on a real stack: the learner resumes from its
// checkpoint and nothing is lost or double-counted; a learner paused past its lease is fenced out
// by a standby; a frozen judge makes proposer RPCs time out without crashing anything.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const experiment = (name: string, maxSteps: number) =>
  tinyExperiment(name, { seed: 5, budget: { maxSteps, maxMinutes: 10 }, learner: { maxStaleness: 1000, checkpointEvery: 2 } });

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
before(async () => {
  // A 5 s lease: a learner whose renewals stall past its lease (a loaded CI machine) counts itself
  // fenced and exits 3, and with 2 s that once left an experiment with no learner at all.
  stack = await startStack(ROOT, { env: { learner: { SPAR_LEASE_MS: '5000', SPAR_POLL_MS: '100' }, proposer: { SPAR_JUDGE_DEADLINE_MS: '300' } } });
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const exactlyOnce = (id: string) => assertExactlyOnce(redis, id);
async function until<T>(timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Steps of this tiny model take milliseconds: the budget leaves room for the steps taken between
// seeing step 5 and the signal landing, so the run is still going when it is interrupted.
const RESUME_STEPS = 80;

test('learner: SIGTERM mid-run checkpoints and releases; a restarted learner resumes and finishes exactly once', async () => {
  const id = await api.submit(experiment('resume sigterm', RESUME_STEPS));
  await api.until(id, (r) => r.step >= 5);
  await stack.kill('learner', 'SIGTERM');
  const mid = await api.get(id);
  assert.equal(mid.state, 'running', 'a released experiment stays running for the next learner');
  await stack.restart('learner');
  const done = await api.finished(id);
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.step, RESUME_STEPS);
  await exactlyOnce(id);
});

test('learner: kill -9 mid-run; after the lease lapses a new learner resumes from the last checkpoint, exactly once', async () => {
  const id = await api.submit(experiment('resume kill9', RESUME_STEPS));
  await api.until(id, (r) => r.step >= 5);
  await stack.kill('learner', 'SIGKILL');
  assert.equal((await api.get(id)).state, 'running', 'killed mid-run');
  await stack.restart('learner');
  const done = await api.finished(id);
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.step, RESUME_STEPS);
  await exactlyOnce(id);
});

test('learner: kill -9 before any checkpoint: the restarted learner starts over and the record goes back to its step (lost steps are not claimed)', async () => {
  const id = await api.submit(tinyExperiment('lost steps', { seed: 6, budget: { maxSteps: 40, maxMinutes: 10 }, learner: { maxStaleness: 1000, checkpointEvery: 1000 } }));
  await api.until(id, (r) => r.step >= 5);
  await stack.kill('learner', 'SIGKILL');
  const claimed = (await api.get(id)).step;
  assert.ok(claimed >= 5);
  await stack.restart('learner');
  // The restarted learner has no checkpoint to resume from: it starts at step 0 and says so.
  const rolledBack = await until(120000, () => {
    const line = readFileSync(join(stack.logDir, 'learner.log'), 'utf8').split('\n').filter((l) => l.includes('steps after the last checkpoint were lost'))
      .map((l) => JSON.parse(l) as { experimentId: string; recorded: number; resumedStep: number }).find((l) => l.experimentId === id);
    return line;
  });
  assert.deepEqual({ recorded: rolledBack.recorded, resumedStep: rolledBack.resumedStep }, { recorded: claimed, resumedStep: 0 });
  const done = await api.finished(id);
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.step, 40);
});

test('learner: SIGSTOP past its lease while a standby takes over; on SIGCONT it writes nothing more and exits 3; the run completes exactly once', async (t) => {
  const steps = 120;
  const id = await api.submit(experiment('fenced', steps));
  const versions = watchPolicyVersions(redis, id);
  await api.until(id, (r) => r.step >= 5);
  // Pause first, then boot the standby: a standby booting while the primary trains on can find
  // the run already finished (steps are sub-second; a busy CI machine boots a service in seconds).
  const primary = stack.services.find((s) => s.name === 'learner')!;
  primary.child.kill('SIGSTOP');
  const pausedAt = Date.now();
  const standby = await stack.startReplica('learner', { SPAR_LEARNER_ID: 'standby' });
  const lease = async () => (await redis.get(keys.lease(id))) ?? '';
  for (const end = Date.now() + 30000; !(await lease()).startsWith('standby#');) {
    assert.ok(Date.now() < end, `standby did not take over (lease ${await lease()})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const tookOverMs = Date.now() - pausedAt;
  const at = (await api.get(id)).step;
  await api.until(id, (r) => r.step >= Math.min(steps - 10, at + 3) || r.state !== 'running');
  // Wake the paused learner: its next write meets the new fencing token.
  primary.child.kill('SIGCONT');
  const code = await Promise.race([primary.exited, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
  assert.equal(code, 3, 'the fenced learner exits with code 3');
  assert.ok((await lease()).startsWith('standby#') || (await api.get(id)).state !== 'running', 'the standby still holds the lease');
  const address = await redis.hget(keys.policy(id), 'address');
  assert.ok(!address?.endsWith(`:${stack.ports.learnerGrpc}`), `the fenced learner did not publish itself again (address ${address})`);
  const done = await api.finished(id);
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.step, steps);
  const seen = await versions.stop();
  const acct = await exactlyOnce(id);
  t.diagnostic(`fenced learner: standby took over after ${tookOverMs} ms; versions ${seen[0]}..${seen.at(-1)} monotone over ${seen.length} publications; ${JSON.stringify(acct)}`);
  assert.equal(standby.child.exitCode, null, 'the standby keeps serving');
  await stack.restart('learner'); // the stack's own learner back, as a standby now
});

test('a hung judge (SIGSTOP) makes ValidateTasks miss its deadline: counted, nothing crashes, work resumes on SIGCONT', async () => {
  const id = await api.submit(experiment('hung judge', 1000000));
  await api.until(id, (r) => r.step >= 1);
  const judge = stack.services.find((s) => s.name === 'judge')!;
  judge.child.kill('SIGSTOP');
  const metric = async () => {
    const text = await (await fetch(`http://127.0.0.1:${stack.ports.metrics.proposer}/metrics`)).text();
    return Number(/^spar_judge_rpc_timeouts_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
  };
  const before = await metric();
  const end = Date.now() + 20000;
  while ((await metric()) <= before) {
    assert.ok(Date.now() < end, 'no deadline misses counted');
    await new Promise((r) => setTimeout(r, 100));
  }
  judge.child.kill('SIGCONT');
  const step = (await api.get(id)).step;
  await api.until(id, (r) => r.step > step + 1, 60000);
  for (const s of stack.services) assert.equal(s.child.exitCode, null, `${s.name} exited`);
  await waitHttp(`http://127.0.0.1:${stack.ports.metrics.proposer}/readyz`);
  assert.equal((await api.stop(id)).state, 'stopped');
});
