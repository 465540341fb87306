/**
 * Property-based fuzz of the learner's PolicyService (WatchPolicy, GetPolicy) on a real gRPC
 * server (port 0), the LearnerService itself over a real Redis: random experiment ids and
 * versions, and raw bytes that are not a request. Each stream ends (or, for a watch, announces)
 * before its deadline with a status that is the client's, never a server fault.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, CLIENT_OPTIONS, fetchWeights, grpc, Metrics, sparProto, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { loadConfig } from '../src/config.ts';
import { LearnerService } from '../src/learner.ts';

// Generous: the first call starts sandbox threads, slow on a loaded 2-core machine; a hang still fails.
const DEADLINE_MS = 20000;
const SERVER_FAULTS = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS, grpc.status.UNIMPLEMENTED, grpc.status.DEADLINE_EXCEEDED]);
const EXP = 'fuzz-exp';

let server: RedisServer;
let redis: Redis;
let learner: LearnerService;
let raw: grpc.Client;

before(async () => {
  server = await RedisServer.start();
  redis = connectRedis(server.url, 'test', createLogger('test', 'error'));
  const cfg = loadConfig({ REDIS_URL: server.url, SPAR_GRPC_HOST: '127.0.0.1', SPAR_GRPC_PORT: '0', SPAR_POLL_MS: '200' }, []);
  learner = new LearnerService(cfg, redis, builtinRecipes(), createLogger('learner', 'error'), new Metrics('learner', false));
  await learner.start();
  // Synthetic weights (the publisher streams bytes, it does not read them): 2.5 chunks' worth.
  for (const version of [1, 2]) {
    const bytes = new Uint8Array((5 << 20) / 2).map((_, i) => (i * version) & 0xff);
    learner.publisher.publish(EXP, { version, bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  raw = new grpc.Client(`127.0.0.1:${learner.grpcPort}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
});
after(async () => {
  raw?.close();
  await learner?.close();
  await closeRedis(redis);
  await server?.stop();
});

const proto = sparProto() as unknown as Record<'WatchPolicyRequest' | 'GetPolicyRequest', { serialize(m: object): Buffer }>;

/**
 * A server-streaming call with raw request bytes. Resolves with its final status; a watch that
 * announces is cancelled at its first message (it would stream forever) and counts as OK.
 */
const stream = (method: 'WatchPolicy' | 'GetPolicy', bytes: Buffer) => new Promise<grpc.status>((resolve) => {
  const call = raw.makeServerStreamRequest(`/spar.v1.PolicyService/${method}`, (b: Buffer) => b, (b: Buffer) => b, bytes, { deadline: Date.now() + DEADLINE_MS });
  let announced = false;
  call.on('data', () => {
    if (method === 'WatchPolicy' && !announced) {
      announced = true;
      call.cancel();
    }
  });
  call.on('error', (err: grpc.ServiceError) => resolve(announced && err.code === grpc.status.CANCELLED ? grpc.status.OK : err.code));
  call.on('end', () => resolve(grpc.status.OK));
});
const assertClientStatus = (code: grpc.status, what: unknown) =>
  assert.ok(!SERVER_FAULTS.has(code), `${grpc.status[code]} for ${JSON.stringify(what)?.slice(0, 300)}`);

const experimentId = fc.oneof(fc.constant(EXP), fc.constant(''), fc.string(), fc.string({ unit: 'binary', maxLength: 64 }));
const version = fc.oneof(fc.constantFrom('1', '2', '0'), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String));

test('WatchPolicy and GetPolicy: random requests never get a server fault or hang', async () => {
  const seen = new Set<grpc.status>();
  await fc.assert(fc.asyncProperty(experimentId, async (id) => {
    const code = await stream('WatchPolicy', proto.WatchPolicyRequest.serialize({ experiment_id: id }));
    seen.add(code);
    assertClientStatus(code, { watch: id });
  }), { numRuns: 150 });
  await fc.assert(fc.asyncProperty(experimentId, version, async (id, v) => {
    const code = await stream('GetPolicy', proto.GetPolicyRequest.serialize({ experiment_id: id, version: v }));
    seen.add(code);
    assertClientStatus(code, { get: id, version: v });
  }), { numRuns: 150 });
  for (const code of [grpc.status.OK, grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT]) assert.ok(seen.has(code), `no ${grpc.status[code]} in the run`);
});

test('PolicyService: bytes that are not a request are INVALID_ARGUMENT or decode to one, never INTERNAL', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom('WatchPolicy', 'GetPolicy') as fc.Arbitrary<'WatchPolicy' | 'GetPolicy'>, fc.uint8Array({ maxLength: 128 }), async (method, bytes) => {
    assertClientStatus(await stream(method, Buffer.from(bytes)), { method, bytes: [...bytes] });
  }), { numRuns: 200 });
  assert.equal(await stream('GetPolicy', Buffer.from([0x0a, 0xff])), grpc.status.INVALID_ARGUMENT);
});

test('after the fuzz the learner still streams verified weights', async () => {
  const { PolicyService } = sparProto();
  const client = new PolicyService(`127.0.0.1:${learner.grpcPort}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  const w = await fetchWeights(client, EXP, 2, DEADLINE_MS);
  client.close();
  assert.equal(w.sha256, learner.publisher.latest(EXP)!.sha256);
});
