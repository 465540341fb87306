import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keys } from '@spar/core';
import { Policy, policyWeights } from '@spar/policy';
import { RedisServer } from '@spar/testing';
import { closeRedis, connectRedis, createLogger, Metrics, PolicyPublisher, sparProto, startGrpcServer, type GrpcServerHandle, type Redis } from '../src/index.ts';
import { OpponentPool, parsePool, samplePool, type PoolSnapshot } from '../src/followed-policy.ts';

const cfg = { vocabSize: 11, layers: 1, dModel: 16, heads: 2, context: 16 };
const EXP = 'exp-pool';

let server: RedisServer;
let redis: Redis;
let grpcServer: GrpcServerHandle;
const publisher = new PolicyPublisher();

before(async () => {
  server = await RedisServer.start();
  redis = connectRedis(server.url, 'test', createLogger('test', 'error'));
  const { PolicyService } = sparProto();
  grpcServer = await startGrpcServer('127.0.0.1:0', [{ name: 'spar.v1.PolicyService', definition: PolicyService.service, impl: publisher.implementation() }]);
});
after(async () => {
  await grpcServer?.close();
  await closeRedis(redis);
  await server?.stop();
});

/** A deterministic stream in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const snap = (version: number): PoolSnapshot => ({ version, step: version, sha256: 'x'.repeat(64) });

test('prioritized sampling plays the snapshots the learner still loses to: weight (1 - score)^2; uniform ignores the results', () => {
  const pool = [snap(1), snap(2), snap(3)];
  const scores = new Map([[1, 1], [2, 0.5], [3, 0]]);
  const count = (sampling: 'uniform' | 'prioritized') => {
    const rng = lcg(9);
    const n = new Map<number, number>();
    for (let i = 0; i < 5000; i++) { const v = samplePool(pool, scores, sampling, rng)!.version; n.set(v, (n.get(v) ?? 0) + 1); }
    return n;
  };
  const p = count('prioritized');
  assert.equal(p.get(1) ?? 0, 0, 'a snapshot always beaten is not played');
  assert.ok(Math.abs(p.get(3)! / 5000 - 0.8) < 0.03, `weights 0.25 : 1 → 80 % on the hardest (${p.get(3)})`);
  const u = count('uniform');
  for (const v of [1, 2, 3]) assert.ok(Math.abs(u.get(v)! / 5000 - 1 / 3) < 0.03);
  assert.equal(samplePool([snap(1)], new Map([[1, 1]]), 'prioritized', lcg(1))!.version, 1, 'uniform again when every weight is 0');
  assert.equal(samplePool([], scores, 'uniform', lcg(1)), undefined);
  assert.deepEqual(parsePool('[{"version":3,"step":30,"sha256":"ab"},{"version":"x"}]'), [{ version: 3, step: 30, sha256: 'ab' }]);
  assert.deepEqual(parsePool('{oops'), []);
});

test('the pool loads a snapshot over GetPolicy only with the recorded sha256, shares it between loans, and falls back to self-play', async () => {
  const learner = await Policy.create(cfg, { worker: false });
  const other = await Policy.create({ ...cfg, seed: 7 }, { worker: false });
  const pool = new OpponentPool(EXP, cfg, { redis, logger: createLogger('test', 'silent'), metrics: new Metrics('solver', false) }, { share: 1, sampling: 'uniform', refreshMs: 0 });
  try {
    const w = { ...(await policyWeights(learner)), version: 12 };
    const forged = { ...(await policyWeights(other)), version: 13 };
    publisher.pin(EXP, w);
    publisher.pin(EXP, forged);
    const address = `127.0.0.1:${grpcServer.port}`;
    // No pool recorded yet: self-play.
    await redis.hset(keys.policy(EXP), { address });
    assert.equal(await pool.pick(() => 0), undefined);
    await redis.hset(keys.policy(EXP), { pool: JSON.stringify([{ version: 12, step: 100, sha256: w.sha256 }]) });
    const a = await pool.pick(() => 0);
    const b = await pool.pick(() => 0);
    assert.ok(a && b);
    assert.equal(a.version, 12);
    assert.equal(a.policy, b.policy, 'one engine per snapshot');
    assert.deepEqual(await a.policy.score([[1, 2, 3]]), await learner.score([[1, 2, 3]]));
    a.release();
    b.release();
    // The record names v13 with the honest hash; the server sends other bytes: refused, self-play instead.
    await redis.hset(keys.policy(EXP), { pool: JSON.stringify([{ version: 13, step: 130, sha256: w.sha256 }]) });
    assert.equal(await pool.pick(() => 0), undefined);
    // share 0: never an opponent.
    const none = new OpponentPool(EXP, cfg, { redis, logger: createLogger('test', 'silent'), metrics: new Metrics('solver', false) }, { share: 0, sampling: 'uniform' });
    assert.equal(await none.pick(() => 0), undefined);
    await none.close();
  } finally {
    await pool.close();
    await pool.close();
    await learner.close();
    await other.close();
  }
});
