import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Policy, policyWeights, Learner } from '@spar/policy';
import { createLogger, fetchWeights, grpc, PolicyFollower, PolicyPublisher, sparProto, startGrpcServer, WeightHashError } from '../src/index.ts';

const cfg = { vocabSize: 11, layers: 1, dModel: 16, heads: 2, context: 16 };

test('weights stream in chunks, are verified by sha256, and followers apply every new version in order', async () => {
  const publisher = new PolicyPublisher();
  const { PolicyService } = sparProto();
  const server = await startGrpcServer('127.0.0.1:0', [{ name: 'spar.v1.PolicyService', definition: PolicyService.service, impl: publisher.implementation() }]);
  const learnerPolicy = await Policy.create(cfg, { worker: false });
  const worker = await Policy.create({ ...cfg, seed: 9 }, { worker: false });
  try {
    const learner = await Learner.create(learnerPolicy, {}, { lr: 1e-2 });
    publisher.publish('exp', await policyWeights(learnerPolicy));
    const applied: number[] = [];
    const follower = new PolicyFollower({
      experimentId: 'exp', logger: createLogger('test', 'error'),
      // What the learner records in Redis when it publishes (see followed-policy.test.ts for the real thing).
      record: async () => { const w = publisher.latest('exp'); return w && { address: `127.0.0.1:${server.port}`, version: w.version, sha256: w.sha256 }; },
      onWeights: async (w) => { applied.push(w.version); const { applyWeights } = await import('@spar/policy'); await applyWeights(worker, w); },
    });
    follower.start();
    for (let i = 0; i < 3; i++) {
      await learner.step([{ tokens: [1, 2, 3, 4], mask: [0, 1, 1, 1], advantage: 1 }]);
      publisher.publish('exp', await policyWeights(learnerPolicy));
    }
    for (let i = 0; i < 100 && follower.version < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await follower.settled();
    assert.equal(follower.version, 3);
    assert.deepEqual(applied, [...applied].sort((a, b) => a - b), 'versions applied in order');
    assert.equal(applied.at(-1), 3);
    assert.deepEqual(await worker.score([[1, 2, 3, 4]]), await learnerPolicy.score([[1, 2, 3, 4]]));
    await follower.close();

    // Unknown experiments and versions are NOT_FOUND, not crashes.
    const client = new PolicyService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    await assert.rejects(fetchWeights(client, 'exp', 999), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    await assert.rejects(fetchWeights(client, 'nope', 1), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    // A publisher announcing the wrong hash is caught by the receiver.
    const w = await policyWeights(learnerPolicy);
    publisher.publish('bad', { ...w, version: 7, sha256: 'f'.repeat(64) });
    await assert.rejects(fetchWeights(client, 'bad', 7), WeightHashError);
    client.close();
  } finally {
    await server.close();
    await learnerPolicy.close();
    await worker.close();
  }
});

test('a large model streams in several 1 MiB chunks', async () => {
  const publisher = new PolicyPublisher();
  const { PolicyService } = sparProto();
  const server = await startGrpcServer('127.0.0.1:0', [{ name: 'spar.v1.PolicyService', definition: PolicyService.service, impl: publisher.implementation() }]);
  const p = await Policy.create({ vocabSize: 64, layers: 4, dModel: 192, heads: 4, context: 32 }, { worker: false });
  try {
    const w = await policyWeights(p);
    assert.ok(w.bytes.length > 3 * (1 << 20));
    publisher.publish('big', w);
    const client = new PolicyService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    const got = await fetchWeights(client, 'big', w.version);
    assert.equal(got.sha256, w.sha256);
    assert.equal(got.bytes.length, w.bytes.length);
    client.close();
  } finally {
    await server.close();
    await p.close();
  }
});
