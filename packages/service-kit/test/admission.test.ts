import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keys, parseExperiment, type ExperienceEntry } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { RedisServer } from '@spar/testing';
import { Admission, admissionBudget, AdmissionGate, appendExperience, closeRedis, connectRedis, createLogger, readExperience, type Redis } from '../src/index.ts';

let server: RedisServer;
let redis: Redis;
before(async () => { server = await RedisServer.start(); redis = connectRedis(server.url, 't', createLogger('test', 'error')); });
after(async () => { await closeRedis(redis); await server.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const entry = (exp: string, group: string, n: number): ExperienceEntry => ({
  envelope: { experimentId: exp, recipe: 'r', role: 'judge', policyVersion: 0, taskId: 't', groupId: group, trajectoryId: '', parentIds: [], createdAt: '' },
  provenance: { checker: 'c', version: '1' },
  trajectories: Array.from({ length: n }, (_, i) => ({ trajectoryId: `${group}.${i}`, sample: { tokens: [1, 2], promptLength: 1, logprobs: [-1], policyVersion: 0, role: 's' }, reward: 1, formatOk: true, correct: true, group, segment: 's' })),
});

test('admission budget: (maxStaleness + 1) × batchSize, none when off', () => {
  const recipes = builtinRecipes();
  const on = parseExperiment({ name: 'x', recipe: 'spiral-games', learner: { batchSize: 512, maxStaleness: 2 } }, recipes);
  assert.equal(on.rollout.admission, 'staleness', 'on by default');
  assert.equal(admissionBudget(on), 1536);
  assert.equal(admissionBudget(parseExperiment({ name: 'x', recipe: 'spiral-games', learner: { batchSize: 64, maxStaleness: 0 } }, recipes)), 64);
  assert.equal(admissionBudget(parseExperiment({ name: 'x', recipe: 'spiral-games', rollout: { admission: 'off' } }, recipes)), undefined);
  assert.throws(() => parseExperiment({ name: 'x', recipe: 'spiral-games', rollout: { admission: 'maybe' } }, recipes),
    (err: Error & { issues?: { path: string; message: string }[] }) => {
      assert.deepEqual(err.issues, [{ path: '/rollout/admission', message: 'expected one of "staleness", "off", got "maybe"' }]);
      return true;
    });
});

test('admission: tokens in flight and judged-but-unconsumed trajectories share one budget; the learner cursor frees it', async () => {
  const exp = 'adm1';
  const a = new Admission(redis, exp, { budget: 6, perGroupGuess: 2, ttlMs: 30000 });
  assert.deepEqual(await a.tryAcquire('g1'), { admitted: true, used: 0, budget: 6, publishedVersion: -1 });
  assert.equal((await a.tryAcquire('g2')).used, 2, 'one token × the per-group guess');
  assert.equal((await a.tryAcquire('g3')).used, 4);
  const full = await a.tryAcquire('g4');
  assert.equal(full.admitted, false);
  assert.equal(full.used, 6);
  assert.equal((await a.headroom()).admitted, false, 'headroom agrees and takes nothing');
  assert.equal((await a.tryAcquire('g1')).admitted, true, 'a held token is renewed, never refused');

  // The judge appends g1 with 3 trajectories: its token leaves the in-flight set in the same script,
  // the stream entry carries the running count, and the per-group figure becomes the measured 3.
  await redis.hset(keys.policy(exp), 'version', '7');
  assert.equal(await appendExperience(redis, entry(exp, 'g1', 3)), true);
  assert.equal(await a.inflight(), 2);
  const [item] = await readExperience(redis, exp, '0-0', 10, 0);
  assert.equal(item!.cumulative, 3);
  const after1 = await a.tryAcquire('g4');
  assert.deepEqual([after1.admitted, after1.used, after1.publishedVersion], [false, 2 * 3 + 3, 7]);

  // The learner commits a step covering the entry: its 3 trajectories are consumed.
  await redis.hset(keys.counters(exp), 'learner_consumed_trajectories', 3);
  assert.equal((await a.tryAcquire('g4')).admitted, false, '3 tokens × 3 = 9 ≥ 6 still');
  await a.release(['g2', 'g3']);
  const freed = await a.tryAcquire('g4');
  assert.deepEqual([freed.admitted, freed.used], [true, 0]);
});

test('admission: a token nobody renews lapses after its TTL; a gate renews what it holds and gives it back on close', async () => {
  // TTLs of a second and more: a stall of a few hundred ms on a busy machine must not flip a check.
  const lapsing = new Admission(redis, 'adm2', { budget: 1, perGroupGuess: 1, ttlMs: 1000 });
  assert.equal((await lapsing.tryAcquire('a')).admitted, true);
  assert.equal((await lapsing.tryAcquire('b')).admitted, false);
  await sleep(1500);
  assert.equal((await lapsing.tryAcquire('b')).admitted, true, 'the crashed holder\'s token lapsed');

  const gate = new AdmissionGate(new Admission(redis, 'adm3', { budget: 1, perGroupGuess: 1, ttlMs: 1500 }));
  assert.ok(await gate.enter('x'));
  await sleep(3500);
  const other = new Admission(redis, 'adm3', { budget: 1, perGroupGuess: 1, ttlMs: 1500 });
  assert.equal((await other.tryAcquire('y')).admitted, false, 'renewed past its TTL while held');
  await gate.abandon('x');
  assert.equal((await other.tryAcquire('y')).admitted, true, 'abandon gives it back at once');
  await other.release(['y']);

  const gate2 = new AdmissionGate(new Admission(redis, 'adm3', { budget: 1, perGroupGuess: 1, ttlMs: 1500 }));
  assert.ok(await gate2.enter('z'));
  await gate2.close();
  await gate2.close();
  assert.equal(await other.inflight(), 0, 'close releases every held token (idempotent)');
  assert.equal(await gate2.enter('w'), undefined, 'a closed gate admits nothing');
});

test('admission: handing a group to the judge stretches its token; waiting gates get in when the budget frees; cancel ends waits', async () => {
  const exp = 'adm4';
  const gates = [0, 1].map(() => new AdmissionGate(new Admission(redis, exp, { budget: 2, perGroupGuess: 1, ttlMs: 1500 }), { min: 5, max: 20 }));
  assert.ok(await gates[0]!.enter('h1'));
  await gates[0]!.handedOn('h1');
  assert.ok(await gates[1]!.enter('h2'));
  await sleep(3500);
  const probe = new Admission(redis, exp, { budget: 2, perGroupGuess: 1, ttlMs: 1500 });
  assert.equal(await probe.inflight(), 2, 'h1 (handed on) outlives the TTL; h2 is renewed by its gate');
  // Two replicas wait for one free slot each; only as many get in as the budget allows.
  let entered = 0;
  const waits = ['w1', 'w2', 'w3'].map((g, i) => gates[i % 2]!.enter(g).then((e) => { if (e) entered++; return e; }));
  await sleep(100);
  assert.equal(entered, 0);
  await appendExperience(redis, entry(exp, 'h1', 1)); // judged: unconsumed now, still counted
  await sleep(100);
  assert.equal(entered, 0);
  await redis.hset(keys.counters(exp), 'learner_consumed_trajectories', 1);
  for (const end = Date.now() + 10000; entered === 0 && Date.now() < end;) await sleep(20);
  await sleep(200);
  assert.equal(entered, 1, 'one slot freed, one waiter admitted');
  gates.forEach((g) => g.cancel());
  const results = await Promise.all(waits);
  assert.equal(results.filter((r) => r === undefined).length, 2, 'cancelled waits return undefined');
  await Promise.all(gates.map((g) => g.close()));
});
