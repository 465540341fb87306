import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keys } from '@spar/core';
import { Policy, policyWeights, Vocabulary, type Weights } from '@spar/policy';
import { RedisServer } from '@spar/testing';
import {
  closeRedis, connectRedis, createLogger, Metrics, PolicyPublisher, sparProto, startGrpcServer, type GrpcServerHandle, type Redis,
} from '../src/index.ts';
import { FollowedPolicy } from '../src/followed-policy.ts';

const cfg = { vocabSize: 11, layers: 1, dModel: 16, heads: 2, context: 16 };
const EXP = 'exp-verify';

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

/** What the learner writes when it publishes (services/learner/src/run.ts). */
const record = (w: Weights) => redis.hset(keys.policy(EXP), { address: `127.0.0.1:${grpcServer.port}`, version: String(w.version), sha256: w.sha256 });

const counterValue = async (metrics: Metrics, name: string, labels: Record<string, string>) => {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return m?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0) ?? 0;
};

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a follower installs weights only when their sha256 equals the learner\'s Redis record for that version', async () => {
  const learner = await Policy.create(cfg, { worker: false });
  const rogue = await Policy.create({ ...cfg, seed: 99 }, { worker: false });
  const metrics = new Metrics('solver', false);
  let f: FollowedPolicy | undefined;
  try {
    const honest = await policyWeights(learner);
    const forged = await policyWeights(rogue);
    assert.notEqual(honest.sha256, forged.sha256);
    // The learner recorded v1 = honest; the server at its address serves other weights as v1
    // (self-consistent: the sha256 it declares is the hash of what it sends).
    await record({ ...honest, version: 1 });
    publisher.publish(EXP, { ...forged, version: 1 });
    f = await FollowedPolicy.create(EXP, cfg, Vocabulary.create([{ symbols: ['a', 'b'] }]), { redis, logger: createLogger('test', 'silent'), metrics });
    let ready = false;
    void f.ready().then(() => { ready = true; });
    await until('the forged weights to be refused', async () => (await counterValue(metrics, 'spar_weights_rejected_total', { reason: 'record_mismatch' })) >= 1);
    assert.equal(ready, false, 'forged weights were not installed');
    assert.notEqual(f.version, 1);
    assert.equal(await counterValue(metrics, 'spar_weight_sync_total', { result: 'ok' }), 0);

    // v2: recorded and served alike → installed, and the copy scores like the learner.
    await record({ ...honest, version: 2 });
    publisher.publish(EXP, { ...honest, version: 2 });
    assert.equal(await f.waitForVersion(2, 10000), true);
    assert.equal(f.version, 2);
    assert.deepEqual(await f.score([[1, 2, 3, 4]]), await learner.score([[1, 2, 3, 4]]));

    // v3 announced but never recorded: not installed; v4 recorded → installed.
    publisher.publish(EXP, { ...forged, version: 3 });
    await record({ ...honest, version: 4 });
    publisher.publish(EXP, { ...honest, version: 4 });
    assert.equal(await f.waitForVersion(4, 10000), true);
    assert.equal(f.version, 4);
    assert.equal(await counterValue(metrics, 'spar_weight_sync_total', { result: 'ok' }), 2, 'v2 and v4 only');
    assert.deepEqual(await f.score([[1, 2, 3, 4]]), await learner.score([[1, 2, 3, 4]]));
  } finally {
    await f?.close();
    await learner.close();
    await rogue.close();
  }
});
