import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ServiceName } from '@spar/testing';
import { startStack, waitHttp, type Stack } from '@spar/testing';
import { assertExactlyOnce, watchPolicyVersions } from './accounting.ts';
import { experimentsApi } from './experiments-api.ts';
import { QUICK_LOCKS, tinyExperiment } from './tiny-experiment.ts';

// kill -9 of each worker and of the controller mid-run, then a restart: the run completes, every
// appended trajectory is accounted for exactly once, policy versions only go up. Job locks,
// stalled checks and admission tokens are short so a crashed holder's work comes back quickly.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const STEPS = 40;
const experiment = (name: string) => tinyExperiment(name, { seed: 9, budget: { maxSteps: STEPS, maxMinutes: 10 } });

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
before(async () => {
  stack = await startStack(ROOT, {
    env: {
      learner: { SPAR_LEASE_MS: '2000', SPAR_POLL_MS: '100' }, judge: QUICK_LOCKS, solver: { ...QUICK_LOCKS, SPAR_ADMISSION_TTL_MS: '2000' },
      proposer: { SPAR_JUDGE_DEADLINE_MS: '1000' },
    },
  });
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

for (const name of ['solver', 'judge', 'proposer', 'controller'] as const satisfies readonly ServiceName[]) {
  test(`${name}: kill -9 mid-run and restart; the run completes exactly once`, async (t) => {
    const id = await api.submit(experiment(`kill ${name}`));
    const versions = watchPolicyVersions(redis, id);
    await api.until(id, (r) => r.step >= 3);
    await stack.kill(name, 'SIGKILL');
    const killedAt = Date.now();
    const stepAtKill = (await redis.hget('spar:experiments', id).then((r) => JSON.parse(r!).step)) as number;
    await new Promise((r) => setTimeout(r, 1000));
    await stack.restart(name);
    if (name === 'controller') await waitHttp(`${stack.baseUrl}/readyz`);
    const moved = await api.until(id, (r) => r.step > stepAtKill + 1 || r.state !== 'running');
    const recoverMs = Date.now() - killedAt;
    const done = await api.finished(id);
    assert.equal(done.state, 'completed', done.reason);
    assert.equal(done.step, STEPS);
    const seen = await versions.stop();
    const acct = await assertExactlyOnce(redis, id);
    assert.ok(acct.ingested >= STEPS * 24, `ingested ${acct.ingested}`);
    for (const s of stack.services) assert.equal(s.child.exitCode, null, `${s.name} exited`);
    t.diagnostic(`${name}: killed at step ${stepAtKill}, progress again after ${recoverMs} ms (step ${moved.step}); versions monotone (${seen.length}); ${JSON.stringify(acct)}`);
  });
}
