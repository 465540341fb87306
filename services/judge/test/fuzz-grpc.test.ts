/**
 * Property-based fuzz of JudgeService.ValidateTasks on a real gRPC server (port 0) over a real
 * Redis: random experiment ids, random task strings and JSON (deep nesting included), and raw
 * bytes that are not a request at all. Every call ends before its deadline with a status that is
 * the client's (OK, INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE), never a server
 * fault, and the judge serves a valid request afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { parseExperiment } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { closeRedis, connectRedis, createLogger, CLIENT_OPTIONS, ExperimentStore, grpc, Metrics, sparProto, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { Judge } from '../src/judge.ts';
import { loadConfig } from '../src/config.ts';

// Generous: the first call starts sandbox threads, slow on a loaded 2-core machine; a hang still fails.
const DEADLINE_MS = 20000;
const SERVER_FAULTS = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS, grpc.status.UNIMPLEMENTED, grpc.status.DEADLINE_EXCEEDED]);
const METHOD = '/spar.v1.JudgeService/ValidateTasks';

let server: RedisServer;
let redis: Redis;
let judge: Judge;
let raw: grpc.Client;
let expId: string;

before(async () => {
  server = await RedisServer.start();
  redis = connectRedis(server.url, 'test', createLogger('test', 'error'));
  const cfg = loadConfig({ REDIS_URL: server.url, SPAR_GRPC_HOST: '127.0.0.1', SPAR_GRPC_PORT: '0', SPAR_MAX_TASKS_PER_CALL: '8' }, []);
  judge = new Judge(cfg, redis, builtinRecipes(), createLogger('judge', 'error'), new Metrics('judge', false));
  await judge.start();
  raw = new grpc.Client(`127.0.0.1:${judge.grpcPort}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  const rec = await new ExperimentStore(redis).create(parseExperiment({ name: 'fuzz', recipe: 'absolute-zero' }, builtinRecipes()));
  expId = rec.id;
});
after(async () => {
  raw?.close();
  await judge?.close();
  await closeRedis(redis);
  await server?.stop();
});

const { ValidateTasksRequest } = (sparProto() as unknown as { ValidateTasksRequest: { serialize(m: object): Buffer } });
/** One call with raw request bytes; resolves with its status code (OK on a response). */
const callBytes = (bytes: Buffer) => new Promise<grpc.status>((resolve) => {
  raw.makeUnaryRequest(METHOD, (b: Buffer) => b, (b: Buffer) => b, bytes, { deadline: Date.now() + DEADLINE_MS }, (err) => resolve(err ? err.code : grpc.status.OK));
});
const assertClientStatus = (code: grpc.status, what: unknown) =>
  assert.ok(!SERVER_FAULTS.has(code), `${grpc.status[code]} for ${JSON.stringify(what)?.slice(0, 300)}`);

const deepJson = fc.integer({ min: 1, max: 20_000 }).chain((d) => fc.constantFrom(`${'['.repeat(d)}${']'.repeat(d)}`, `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));
const dslTask = fc.record({ type: fc.constantFrom('deduction', 'abduction', 'induction', 'x'), program: fc.string(), input: fc.jsonValue(), output: fc.jsonValue() }, { requiredKeys: [] });
const taskJson = fc.oneof(fc.string(), fc.json(), deepJson, dslTask.map((t) => JSON.stringify(t)), fc.string({ unit: 'binary', maxLength: 64 }));

test('ValidateTasks: random requests never get a server fault or hang', async () => {
  const seen = new Set<grpc.status>();
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.constant(() => expId), fc.string().map((s) => () => s)),
    fc.array(taskJson, { maxLength: 10 }),
    async (id, tasks) => {
      const req = { experiment_id: id(), tasks_json: tasks };
      const code = await callBytes(ValidateTasksRequest.serialize(req));
      seen.add(code);
      assertClientStatus(code, req);
    },
  ), { numRuns: 250 });
  // The run reached the sandbox (OK) and each refusal path.
  for (const code of [grpc.status.OK, grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT]) assert.ok(seen.has(code), `no ${grpc.status[code]} in the run`);
});

test('ValidateTasks: bytes that are not a request are INVALID_ARGUMENT or decode to one, never INTERNAL', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
    assertClientStatus(await callBytes(Buffer.from(bytes)), [...bytes]);
  }), { numRuns: 200 });
  // Truncated varint: does not decode.
  assert.equal(await callBytes(Buffer.from([0x0a, 0xff])), grpc.status.INVALID_ARGUMENT);
});

test('after the fuzz the judge still validates a task', async () => {
  const { JudgeService } = sparProto();
  const client = new JudgeService(`127.0.0.1:${judge.grpcPort}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  const res = await new Promise<{ results: { valid: boolean; reason: string }[] }>((resolve, reject) => {
    client.ValidateTasks({ experiment_id: expId, tasks_json: ['{}'] }, { deadline: Date.now() + DEADLINE_MS }, (err, r) => (err ? reject(err) : resolve(r as never)));
  });
  client.close();
  assert.equal(res.results.length, 1);
  assert.equal(res.results[0]!.valid, false);
});
