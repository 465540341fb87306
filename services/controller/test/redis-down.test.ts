import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { builtinRecipes } from '@spar/recipes';
import {
  closeRedis, connectRedis, ExperimentStore, makeQueue, makeWorker, Metrics, OpsServer, redisReady, whenRedisReady, type Redis,
} from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import type { Queue, Worker } from 'bullmq';
import { API_REDIS, connectApiRedis, redisChecks } from '../src/api-redis.ts';
import { buildApp } from '../src/app.ts';

// Redis killed, paused and restarted under a controller app and a worker's ops server (the
// /readyz that runWorkerService serves): both answer 503 once their wait on Redis times out (API
// commands 1 s, /readyz 1.5 s; asserted within 3.5 s, as docs/operations.md says), then 200 again, and every
// client error goes through pino, none to stderr as "[ioredis] Unhandled error event".

const TOKEN = 'secret-token-123';
const logs: { component?: string; msg: string; level: number }[] = [];
const logger = pino({ level: 'debug' }, new Writable({ write(c, _e, cb) { logs.push(JSON.parse(String(c))); cb(); } }));
const stderr: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);

let redis: RedisServer;
let api: Redis;
let workerConn: Redis;
let ops: OpsServer;
let app: Awaited<ReturnType<typeof buildApp>>;
let queue: Queue;
let worker: Worker;

before(async () => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(String(chunk));
    return (realWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  redis = await RedisServer.start({ appendOnly: true });
  api = connectApiRedis(redis.url, logger);
  workerConn = connectRedis(redis.url, 'solver', logger);
  const metrics = new Metrics('controller', false);
  app = await buildApp({ store: new ExperimentStore(api), recipes: builtinRecipes(), metrics, logger, bodyLimit: 65536, apiToken: TOKEN, ...redisChecks(api) });
  ops = await OpsServer.start({ port: 0, host: '127.0.0.1', registry: metrics.registry, ready: () => redisReady(workerConn) });
  // A BullMQ queue and worker on the same Redis: their errors while it is down must be handled too.
  queue = makeQueue('redis-down-test', workerConn, logger);
  worker = makeWorker('redis-down-test', workerConn, async () => undefined, logger);
  await worker.waitUntilReady();
});
after(async () => {
  process.stderr.write = realWrite;
  await worker?.close();
  await queue?.close();
  await app?.close();
  await ops?.close();
  await closeRedis(api);
  await closeRedis(workerConn);
  await redis?.stop();
});

const submit = (name = 'rd') => app.inject({
  method: 'POST', url: '/v1/experiments', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  payload: JSON.stringify({ name, recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }),
});

/** Status codes of every Redis-backed endpoint, and the slowest answer's time. */
async function probe(id: string, name?: string): Promise<{ codes: Record<string, number>; slowestMs: number; problems: boolean }> {
  const timed = async <T>(f: () => Promise<T>) => { const t0 = performance.now(); const r = await f(); return { r, ms: performance.now() - t0 }; };
  const results = await Promise.all([
    timed(() => app.inject({ url: '/readyz' })),
    timed(() => app.inject({ url: '/v1/experiments' })),
    timed(() => app.inject({ url: `/v1/experiments/${id}` })),
    timed(() => submit(name)),
    timed(() => fetch(`http://127.0.0.1:${ops.port}/readyz`).then((r) => ({ statusCode: r.status, headers: { 'content-type': '' } }))),
  ]);
  const names = ['controller /readyz', 'GET /v1/experiments', 'GET /v1/experiments/:id', 'POST /v1/experiments', 'worker /readyz'];
  return {
    codes: Object.fromEntries(results.map((x, i) => [names[i], x.r.statusCode])),
    slowestMs: Math.max(...results.map((x) => x.ms)),
    problems: results.slice(1, 4).every((x) => String(x.r.headers['content-type']).startsWith('application/problem+json')),
  };
}

const all = (code: number) => ({ 'controller /readyz': code, 'GET /v1/experiments': code, 'GET /v1/experiments/:id': code, 'POST /v1/experiments': code === 200 ? 201 : code, 'worker /readyz': code });

// The API answers within its command timeout (1 s) plus slack for a loaded 2-core machine: it
// must never hang behind a dead or silent Redis.
const PROMPT_MS = API_REDIS.commandTimeoutMs + 2500;

test('Redis killed → /readyz and the API answer 503 (problem+json) within 3.5 s; after a restart, 200 again; nothing queued behind a 503', { timeout: 30000 }, async () => {
  const first = await submit();
  assert.equal(first.statusCode, 201);
  const id = first.json().id as string;
  const up = await probe(id);
  assert.deepEqual(up.codes, all(200));

  await redis.kill();
  const down = await probe(id, 'while-down');
  assert.deepEqual(down.codes, all(503));
  assert.ok(down.problems, 'API errors are problem+json');
  assert.ok(down.slowestMs < PROMPT_MS, `slowest answer took ${down.slowestMs.toFixed(0)} ms`);
  const again = await probe(id, 'while-down');
  assert.deepEqual(again.codes, all(503), 'still 503 while Redis stays down');
  assert.ok(again.slowestMs < PROMPT_MS, `slowest answer took ${again.slowestMs.toFixed(0)} ms`);

  await redis.restart();
  assert.equal(await whenRedisReady(api, 10000), true);
  assert.equal(await whenRedisReady(workerConn, 10000), true);
  const back = await probe(id);
  assert.deepEqual(back.codes, all(200));
  // The submits answered 503 left nothing behind to run once Redis was back.
  const list = (await app.inject({ url: '/v1/experiments' })).json().experiments as { name: string }[];
  assert.ok(list.length >= 1);
  assert.deepEqual(list.filter((e) => e.name === 'while-down'), []);
});

test('Redis paused (SIGSTOP: connected, silent) → 503 within 3.5 s; resumed → 200', { timeout: 30000 }, async () => {
  const pid = Number(/process_id:(\d+)/.exec(await api.info('server'))![1]);
  const id = (await submit()).json().id as string;
  process.kill(pid, 'SIGSTOP');
  try {
    const paused = await probe(id);
    assert.deepEqual(paused.codes, all(503));
    assert.ok(paused.slowestMs < PROMPT_MS, `slowest answer took ${paused.slowestMs.toFixed(0)} ms`);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  assert.equal(await whenRedisReady(api, 10000), true);
  const back = await probe(id);
  assert.deepEqual(back.codes, all(200));
});

test('client errors went through pino with their component; none reached stderr unhandled', () => {
  assert.ok(api.listenerCount('error') > 0 && workerConn.listenerCount('error') > 0 && queue.listenerCount('error') > 0 && worker.listenerCount('error') > 0);
  const errors = logs.filter((l) => l.msg === 'redis connection error');
  assert.ok(errors.some((l) => l.component === 'redis' && l.level === 40), 'a connection error is logged at warn, component redis');
  assert.ok(logs.some((l) => l.msg === 'redis connection restored' && l.component === 'redis'));
  assert.ok(logs.filter((l) => l.level >= 40).length < 40, 'repeats of one error go to debug, not warn');
  const text = stderr.join('');
  assert.doesNotMatch(text, /Unhandled error event/);
  assert.doesNotMatch(text, /ECONNREFUSED/);
});
