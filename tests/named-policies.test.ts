import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { startStack, type Stack } from '@spar/testing';
import { experimentsApi } from './experiments-api.ts';

// config.policies + config.roles on a real stack: r-zero with a separate challenger (the
// proposer's policy) and solver, each trained on its own samples, published under its own record,
// followed by the service that plays its role, checkpointed and resumed across a learner kill -9;
// and a frozen solver that is published but never changes.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const rzero = (name: string, extra: object) => ({
  name, recipe: 'r-zero',
  policy: { layers: 1, dModel: 32, heads: 2, context: 64, seed: 5 },
  rollout: { groupSize: 4, maxNewTokens: 8, concurrency: 2, maxQueuedTasks: 4 },
  learner: { batchSize: 16, maxStaleness: 3, checkpointEvery: 2 },
  eval: { every: 0, episodes: 10 },
  ...extra,
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

const metricsOf = async (service: 'learner' | 'proposer' | 'solver') => (await fetch(`http://127.0.0.1:${stack.ports.metrics[service]}/metrics`)).text();

test('named policies: r-zero\'s challenger and solver train apart, each followed by its role\'s service, kept across a learner kill -9', async () => {
  const id = await api.submit(rzero('two policies', {
    policies: { challenger: {}, solver: {} }, roles: { proposer: 'challenger', solver: 'solver' },
    budget: { maxSteps: 8, maxMinutes: 8 },
  }));
  const mid = await api.until(id, (r) => r.step >= 3, 240000);
  assert.deepEqual(Object.keys(mid.policies ?? {}).sort(), ['challenger', 'solver']);
  const before = mid.policies!;
  await stack.kill('learner', 'SIGKILL');
  await stack.restart('learner');
  const done = await api.finished(id, 300000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  assert.equal(done.step, 8);
  const p = done.policies!;
  // Both trained (a challenger sample rides on every solver group), neither frozen; versions only go up across the resume.
  for (const name of ['challenger', 'solver'] as const) {
    assert.equal(p[name]!.frozen, false);
    assert.ok(p[name]!.step > 0 && p[name]!.version >= before[name]!.version, `${name}: ${JSON.stringify(p[name])} after ${JSON.stringify(before[name])}`);
  }
  assert.equal(done.policyVersion, p.solver!.version, 'the record\'s version is the solver\'s');
  // Each policy has its own record; there is no unnamed one.
  const [challenger, solver] = await Promise.all([redis.hgetall(keys.policyOf(id, 'challenger')), redis.hgetall(keys.policyOf(id, 'solver'))]);
  assert.equal(Number(challenger.version), p.challenger!.version);
  assert.equal(Number(solver.version), p.solver!.version);
  assert.notEqual(challenger.sha256, solver.sha256, 'separate weights');
  assert.equal(await redis.exists(keys.policy(id)), 0);
  // Checkpoints hold both; the challenger is exported besides the solver's export/.
  const ckDir = done.artifacts!.checkpoints!;
  const step8 = readdirSync(ckDir).find((f) => /^step-0*8-/.test(f));
  assert.ok(step8 && existsSync(join(ckDir, step8, 'policies', 'challenger')), `the checkpoint of step 8 holds the challenger (${ckDir}: ${readdirSync(ckDir).join(', ')})`);
  assert.ok(done.artifacts!.challengerOnnx && existsSync(done.artifacts!.challengerOnnx), 'export-challenger/');
  assert.ok(done.artifacts!.onnx && existsSync(done.artifacts!.onnx));
  // Metrics carry the policy: the learner's per policy; each worker follows its role's policy.
  const learner = await metricsOf('learner');
  for (const name of ['challenger', 'solver']) {
    assert.match(learner, new RegExp(`spar_learner_loss\\{experiment="${id}",policy="${name}"[^}]*\\} `));
    assert.match(learner, new RegExp(`spar_policy_version\\{service="learner",experiment="${id}",policy="${name}"[^}]*\\} ${p[name]!.version}\\b`));
  }
  assert.match(await metricsOf('proposer'), new RegExp(`spar_policy_version\\{service="proposer",experiment="${id}",policy="challenger"[^}]*\\} [1-9]`));
  assert.match(await metricsOf('solver'), new RegExp(`spar_policy_version\\{service="solver",experiment="${id}",policy="solver"[^}]*\\} [1-9]`));
  // Deleting the experiment removes the named records too.
  assert.equal((await fetch(`${stack.baseUrl}/v1/experiments/${id}`, { method: 'DELETE' })).status < 300, true);
  assert.equal(await redis.exists(keys.policyOf(id, 'challenger'), keys.policyOf(id, 'solver')), 0);
});

test('named policies: a frozen solver is published once and never changes while the challenger trains', async () => {
  const id = await api.submit(rzero('frozen solver', {
    policies: { challenger: {}, solver: { frozen: true } }, roles: { proposer: 'challenger', solver: 'solver' },
    budget: { maxSteps: 4, maxMinutes: 5 },
  }));
  const first = await api.until(id, (r) => r.step >= 1, 240000);
  const sha = await redis.hget(keys.policyOf(id, 'solver'), 'sha256');
  assert.ok(sha, 'the frozen solver is published');
  const done = await api.finished(id, 240000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  const p = done.policies!;
  assert.deepEqual(p.solver, { ...first.policies!.solver!, frozen: true, step: 0 });
  assert.equal(await redis.hget(keys.policyOf(id, 'solver'), 'sha256'), sha, 'the frozen solver\'s weights never changed');
  assert.ok(p.challenger!.step > 0 && !p.challenger!.frozen);
});
