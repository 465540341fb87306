import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RedisServer } from '@spar/testing';
import { closeRedis, connectRedis, createLogger, listServices, SERVICES_INDEX, ServiceRegistration, type Redis } from '../src/index.ts';

let server: RedisServer;
let redis: Redis;
before(async () => { server = await RedisServer.start(); redis = connectRedis(server.url, 't', createLogger('test', 'error')); });
after(async () => { await closeRedis(redis); await server.stop(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('registry: replicas are listed while they renew, filtered by service; close() removes at once; a silent one expires', async () => {
  const a = await ServiceRegistration.start(redis, { service: 'judge', id: 'a', ops: '127.0.0.1:1001', grpc: '127.0.0.1:2001' }, { ttlMs: 2000, renewMs: 300 });
  const b = await ServiceRegistration.start(redis, { service: 'judge', id: 'b', ops: '127.0.0.1:1002', grpc: '127.0.0.1:2002' }, { ttlMs: 2000, renewMs: 300 });
  const s = await ServiceRegistration.start(redis, { service: 'solver', id: 'c', ops: '127.0.0.1:1003' }, { ttlMs: 2000, renewMs: 300 });
  await sleep(2600); // past one TTL: renewal keeps them (TTLs of seconds: a stall on a busy machine must not expire one)
  assert.deepEqual((await listServices(redis, 'judge')).map((x) => x.grpc), ['127.0.0.1:2001', '127.0.0.1:2002']);
  assert.deepEqual((await listServices(redis)).map((x) => x.service).sort(), ['judge', 'judge', 'solver']);
  assert.equal((await listServices(redis, 'solver'))[0]!.grpc, undefined);

  await a.close();
  await a.close(); // idempotent
  assert.deepEqual((await listServices(redis, 'judge')).map((x) => x.id), ['b']);

  // A replica that stops renewing without closing (crashed): gone after its TTL, index pruned.
  const crashed = await ServiceRegistration.start(redis, { service: 'judge', id: 'z', ops: '127.0.0.1:1009' }, { ttlMs: 1500, renewMs: 60000 });
  assert.ok((await listServices(redis, 'judge')).some((x) => x.id === 'z'));
  await sleep(2000);
  assert.deepEqual((await listServices(redis, 'judge')).map((x) => x.id), ['b']);
  assert.equal(await redis.sismember(SERVICES_INDEX, 'judge:z'), 0, 'expired member pruned from the index');
  await Promise.all([b.close(), s.close(), crashed.close()]);
  assert.deepEqual(await listServices(redis), []);
});

test('registry: a registration started before its connection is ready registers once it is, without a warning', async () => {
  const warnings: string[] = [];
  const logger = createLogger('test', 'warn');
  const spy = Object.assign(Object.create(logger), { warn: (_o: unknown, msg: string) => { warnings.push(msg); } }) as typeof logger;
  // As worker-main connects: writes fail at once while the connection is still coming up.
  const early = connectRedis(server.url, 'early', logger, { failFastMs: 2000 });
  assert.notEqual(early.status, 'ready');
  const reg = await ServiceRegistration.start(early, { service: 'solver', id: 'early', ops: '127.0.0.1:1010' }, { ttlMs: 5000, renewMs: 60000, logger: spy });
  for (let i = 0; i < 100 && !(await listServices(redis, 'solver')).some((x) => x.id === 'early'); i++) await sleep(100);
  assert.ok((await listServices(redis, 'solver')).some((x) => x.id === 'early'), 'registered once connected');
  assert.deepEqual(warnings, []);
  await reg.close();
  await closeRedis(early);
});
