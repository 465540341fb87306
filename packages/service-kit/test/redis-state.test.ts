import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keys, parseExperiment, queues, type ExperienceEntry } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { RedisServer } from '@spar/testing';
import { appendExperience, closeRedis, connectRedis, counters, createLogger, ExperimentLease, ExperimentStore, LeaseLostError, loadServiceConfig, makeQueue, readExperience, trimExperience, type Redis } from '../src/index.ts';
import { Type } from '@sinclair/typebox';

let server: RedisServer;
let redis: Redis;
before(async () => { server = await RedisServer.start(); redis = connectRedis(server.url, 't', createLogger('test', 'error')); });
after(async () => { await closeRedis(redis); await server.stop(); });

const entry = (exp: string, group: string, n: number): ExperienceEntry => ({
  envelope: { experimentId: exp, recipe: 'r', role: 'judge', policyVersion: 0, taskId: 't', groupId: group, trajectoryId: '', parentIds: [], createdAt: '' },
  provenance: { checker: 'c', version: '1' },
  trajectories: Array.from({ length: n }, (_, i) => ({ trajectoryId: `${group}.${i}`, sample: { tokens: [1, 2], promptLength: 1, logprobs: [-1], policyVersion: 0, role: 's' }, reward: 1, formatOk: true, correct: true, group, segment: 's' })),
});

test('experience: a re-delivered group is appended once; reads resume after a cursor; trim keeps unread entries', async () => {
  assert.equal(await appendExperience(redis, entry('e1', 'g1', 3)), true);
  assert.equal(await appendExperience(redis, entry('e1', 'g1', 3)), false, 're-delivery is a no-op');
  assert.equal(await appendExperience(redis, entry('e1', 'g2', 2)), true);
  const c = await counters(redis, 'e1');
  assert.deepEqual([c.appended_groups, c.appended_trajectories, c.duplicate_groups], [2, 5, 1]);
  const all = await readExperience(redis, 'e1', '0-0', 10, 0);
  assert.deepEqual(all.map((x) => x.entry.envelope.groupId), ['g1', 'g2']);
  const rest = await readExperience(redis, 'e1', all[0]!.id, 10, 0);
  assert.deepEqual(rest.map((x) => x.entry.envelope.groupId), ['g2']);
  await trimExperience(redis, 'e1', all[0]!.id);
  assert.deepEqual((await readExperience(redis, 'e1', '0-0', 10, 0)).map((x) => x.entry.envelope.groupId), ['g2']);
});

test('experiments: lifecycle, stop requests, one lease holder at a time, takeover after expiry', async () => {
  const store = new ExperimentStore(redis);
  const config = parseExperiment({ name: 'x', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, builtinRecipes());
  const a = await store.create(config);
  const b = await store.create(config);
  const got = await store.claim('L1', 2000);
  assert.equal(got?.record.id, a.id, 'oldest first');
  assert.equal((await store.get(a.id)).state, 'running');
  assert.deepEqual(await store.running(), [a.id]);
  const got2 = await store.claim('L2', 2000);
  assert.equal(got2?.record.id, b.id, 'a second learner takes the next experiment, not the held one');
  assert.equal(await got2!.lease.renew(2000), true);
  assert.equal(await got!.lease.renew(2000), true);
  await new Promise((r) => setTimeout(r, 2500));
  const taken = await store.claim('L3', 300);
  assert.ok(taken && [a.id, b.id].includes(taken.record.id), 'an expired lease is taken over');
  // The learner that lost it is fenced: renew, counters, trim and record writes are refused.
  const old = taken.record.id === a.id ? got! : got2!;
  assert.ok(taken.lease.token > old.lease.token, 'fencing tokens are monotone per experiment');
  assert.equal(await old.lease.renew(300), false, 'only the holder renews');
  await assert.rejects(old.lease.hset(keys.counters(old.record.id), { ingested_trajectories: 1 }), LeaseLostError);
  await assert.rejects(old.lease.trimExperience('1-0', 60000), LeaseLostError);
  await assert.rejects(store.update(old.record.id, (r) => ({ ...r, step: 99 }), old.lease), LeaseLostError);
  assert.notEqual((await store.get(old.record.id)).step, 99);
  assert.equal(await redis.hget(keys.counters(old.record.id), 'ingested_trajectories'), null);
  await taken.lease.hset(keys.counters(old.record.id), { ingested_trajectories: 2 });
  assert.equal(await redis.hget(keys.counters(old.record.id), 'ingested_trajectories'), '2');
  await old.lease.release();
  assert.equal(await taken.lease.held(), true, 'a stale release does not free the new holder\'s lease');
  await store.requestStop(a.id);
  assert.equal((await store.get(a.id)).stopRequested, true);
  await store.transition(a.id, 'stopped');
  await assert.rejects(store.transition(a.id, 'running'), /already stopped/);
  assert.ok(!(await store.running()).includes(a.id));
  // Concurrent updates from one process do not lose writes.
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.update(b.id, (r) => ({ ...r, step: r.step + 1, metrics: { ...r.metrics, [`m${i}`]: i } }))));
  const rb = await store.get(b.id);
  assert.equal(rb.step, 20);
  assert.equal(Object.keys(rb.metrics).length, 20);
  await redis.del(keys.experiments);
});

test('service config: env + flags, coercion, unknown SPAR_* settings and flags rejected with every issue', () => {
  const S = Type.Object({ REDIS_URL: Type.String({ default: 'redis://x' }), SPAR_OPS_PORT: Type.Integer({ default: 1, minimum: 0 }), SPAR_FLAG: Type.Boolean({ default: false }) }, { additionalProperties: false });
  const c = loadServiceConfig(S, { SPAR_OPS_PORT: '9000', PATH: '/bin' }, ['--flag', 'true']);
  assert.deepEqual(c, { REDIS_URL: 'redis://x', SPAR_OPS_PORT: 9000, SPAR_FLAG: true });
  assert.equal(loadServiceConfig(S, {}, ['--ops-port=7']).SPAR_OPS_PORT, 7);
  assert.throws(() => loadServiceConfig(S, { SPAR_OPS_PORT: 'abc', SPAR_TYPO: '1' }, ['--nope', '1']), (e: { issues: { path: string }[] }) => {
    const paths = e.issues.map((i) => i.path);
    return paths.includes('/SPAR_OPS_PORT') && paths.includes('/SPAR_TYPO') && paths.includes('--nope');
  });
  // Shared tokens are set for a whole deployment: a service without gRPC (or without the API) ignores the other's.
  assert.equal(loadServiceConfig(S, { SPAR_GRPC_TOKEN: 'x'.repeat(32), SPAR_API_TOKEN: 'y'.repeat(32) }).SPAR_OPS_PORT, 1);
});

test('experiments: DELETE removes the record, its keys and its BullMQ queues, and nothing of another experiment', async () => {
  const store = new ExperimentStore(redis);
  const config = parseExperiment({ name: 'del', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, builtinRecipes());
  const [a, b] = [await store.create(config), await store.create(config)];
  const logger = createLogger('test', 'error');
  for (const id of [a.id, b.id]) {
    for (const name of [queues.tasks(id), queues.rollouts(id)]) {
      const q = makeQueue(name, redis, logger);
      await q.add('job', { x: 1 }, { jobId: `j-${id}` });
      await q.close();
    }
    await redis.xadd(keys.experience(id), '*', 'd', '{}');
  }
  const keysOf = async (id: string) => (await redis.keys(`spar:*${id}*`)).sort();
  assert.ok((await keysOf(a.id)).some((k) => k.startsWith(`spar:tasks.${a.id}:`)), 'queues exist');
  await store.requestStop(a.id);
  await store.delete(a.id);
  assert.deepEqual(await keysOf(a.id), [], 'nothing of the deleted experiment is left');
  assert.ok((await keysOf(b.id)).some((k) => k.startsWith(`spar:rollouts.${b.id}:`)), 'the other experiment keeps its queues');
  assert.ok(await redis.exists(keys.experience(b.id)));
});

test('lease stalls: a lease that lapsed with nobody else claiming is taken back under the same token; once another claim happened it is lost', async () => {
  const id = 'stalled-lease';
  const until = async (what: string, probe: () => Promise<boolean> | boolean) => {
    for (const end = Date.now() + 30000; !(await probe());) {
      assert.ok(Date.now() < end, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const lapsed = () => redis.exists(keys.lease(id)).then((n) => n === 0);
  const a = (await ExperimentLease.claim(redis, id, 'learner-a', 1500))!;
  // Renewals stalled (none ran): the key lapses. The next fenced write takes it back and succeeds.
  await until('the lease to lapse', lapsed);
  await a.hset(keys.counters(id), { ingested_trajectories: 1 });
  assert.equal(await a.held(), true);
  assert.equal(a.reclaims, 1);
  // The renewal timer does the same, and says so.
  await until('the lease to lapse again', lapsed);
  let told = 0;
  a.startRenewing(1500, () => { told++; });
  await until('the renewal to take the lease back', () => told === 1);
  assert.equal(a.lost, false);
  assert.equal(await a.held(), true);
  a.stopRenewing();
  // Lapsed again, and this time another learner claims it first: a newer token. Now it is lost.
  await until('the lease to lapse a third time', lapsed);
  const b = (await ExperimentLease.claim(redis, id, 'learner-b', 15000))!;
  assert.ok(b.token > a.token);
  assert.equal(await a.reclaim(), false);
  await assert.rejects(a.hset(keys.counters(id), { ingested_trajectories: 2 }), LeaseLostError);
  await assert.rejects(a.assertHeld(), LeaseLostError);
  a.startRenewing(1500);
  await until('the renewal to report the lease lost', () => a.lost);
  a.stopRenewing();
  assert.equal(await redis.hget(keys.counters(id), 'ingested_trajectories'), '1');
  // Even after b's lease lapses, a stays out: b's claim moved the fencing token on.
  await b.release();
  assert.equal(await a.reclaim(), false);
});
