import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { loadPolicy } from '@spar/policy';
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

test('rounds: the challenger and the solver train in turn; a frozen copy of the solver, taken each round, labels its answers; kept across a learner kill -9', async () => {
  const id = await api.submit(rzero('rounds', {
    // Every question informative: the tiny random policy's votes are rarely in R-Zero's band.
    options: { informativeMin: 0, informativeMax: 1 },
    policies: { challenger: {}, solver: {}, labeler: { frozen: true, copies: 'solver' } },
    roles: { proposer: 'challenger', solver: 'solver', labeler: 'labeler' },
    rounds: { phases: [{ train: 'challenger', steps: 2 }, { train: 'solver', steps: 2 }] },
    budget: { maxSteps: 10, maxMinutes: 8 },
  }));
  // Every record the learner writes is sampled: versions per phase tell who trained.
  const seen: { step: number; round?: { round: number; phase: number }; policies: Record<string, { version: number; step: number; training?: boolean; copyOf?: { policy: string; version: number } }> }[] = [];
  const watch = (r: Awaited<ReturnType<typeof api.get>>) => {
    if (r.policies && (seen.at(-1)?.step ?? -1) !== r.step) seen.push({ step: r.step, ...(r.round ? { round: r.round } : {}), policies: r.policies as never });
  };
  await api.until(id, (r) => (watch(r), r.step >= 5), 240000);
  await stack.kill('learner', 'SIGKILL');
  await stack.restart('learner');
  const done = await api.until(id, (r) => (watch(r), r.state !== 'running' && r.state !== 'queued'), 300000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  assert.equal(done.step, 10);
  const p = done.policies!;
  // 10 steps of 2 + 2: the challenger trained steps 1-2, 5-6, 9-10 (6 optimizer steps), the solver 3-4, 7-8 (4).
  assert.equal(p.challenger!.step, 6, JSON.stringify(p));
  assert.equal(p.solver!.step, 4, JSON.stringify(p));
  assert.deepEqual(done.round, { round: 2, phase: 1 }, 'after 10 steps the next is round 3\'s solver phase');
  assert.equal(p.labeler!.frozen, true);
  assert.equal(p.labeler!.step, 0);
  // The copy taken at the start of round 3 (step 8) holds the solver as it ended round 2.
  assert.deepEqual(p.labeler!.copyOf, { policy: 'solver', version: p.solver!.version - 0 }, 'the solver has not trained since the copy');
  const rec = await redis.hgetall(keys.policyOf(id, 'labeler'));
  assert.equal(Number(rec.copyOf), p.solver!.version);
  assert.equal(Number(rec.version), p.labeler!.version);
  // Within a phase only its policy's version moves.
  let compared = 0;
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1]!, seen[i]!];
    if (b.step !== a.step + 1 || !a.round || !b.round || a.round.phase !== b.round.phase || a.round.round !== b.round.round) continue;
    const held = a.round.phase === 0 ? 'solver' : 'challenger';
    assert.equal(b.policies[held]!.version, a.policies[held]!.version, `${held} held fixed from step ${a.step} to ${b.step}`);
    assert.equal(b.policies[held === 'solver' ? 'challenger' : 'solver']!.training, true);
    compared++;
  }
  assert.ok(compared > 0, `no two records of consecutive steps in one phase were seen: ${JSON.stringify(seen.map((x) => x.step))}`);
  // The solver's answers in its phases were labelled by the copy's separate answers; in the challenger's, by its own.
  const m = await metricsOf('solver');
  assert.match(m, new RegExp(`spar_labeled_groups_total\\{experiment="${id}",how="separate"[^}]*\\} [1-9]`));
  assert.match(m, new RegExp(`spar_labeled_groups_total\\{experiment="${id}",how="own"[^}]*\\} [1-9]`));
  assert.match(m, new RegExp(`spar_policy_version\\{service="solver",experiment="${id}",policy="labeler"[^}]*\\} [1-9]`));
  // Held-fixed policies' samples were dropped, not trained, and counted.
  const c = await redis.hgetall(keys.counters(id));
  assert.ok(Number(c.dropped_frozen) > 0, JSON.stringify(c));
  // The checkpoint holds the copy and what it copied.
  const ckDir = done.artifacts!.checkpoints!;
  const last = readdirSync(ckDir).filter((f) => /^step-/.test(f)).sort().at(-1)!;
  const { policy: copy, metadata } = await loadPolicy(join(ckDir, last, 'policies', 'labeler'));
  await copy.close();
  assert.equal(metadata.copyOf, p.labeler!.copyOf!.version, JSON.stringify(metadata));
});
