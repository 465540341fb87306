import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RedisServer } from '@spar/testing';
import { closeRedis, connectRedis, createLogger, grpc, ServiceRegistration, sparProto, startGrpcServer, type GrpcServerHandle, type Redis } from '@spar/service-kit';
import { JUDGE_REFRESH_MS, JudgePool } from '../src/judge-pool.ts';

// Real gRPC servers standing in for judge replicas (each answers with its own name), registered
// in a real Redis the way judge replicas register: the pool must find them, spread calls over
// them, and skip one that went away.
let redis: Redis;
let rs: RedisServer;
const judges: { handle: GrpcServerHandle; reg: ServiceRegistration; name: string }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startJudge(name: string) {
  const { JudgeService } = sparProto();
  const handle = await startGrpcServer('127.0.0.1:0', [{
    name: 'spar.v1.JudgeService', definition: JudgeService.service,
    impl: { ValidateTasks: (call: grpc.ServerUnaryCall<{ tasks_json: string[] }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { results: call.request.tasks_json.map(() => ({ valid: true, canonical: name })) }) },
  }]);
  const reg = await ServiceRegistration.start(redis, { service: 'judge', id: name, ops: '127.0.0.1:1', grpc: `127.0.0.1:${handle.port}` }, { ttlMs: 60000 });
  judges.push({ handle, reg, name });
}

before(async () => { rs = await RedisServer.start(); redis = connectRedis(rs.url, 't', createLogger('test', 'error')); });
after(async () => {
  for (const j of judges) { await j.reg.close(); await j.handle.close(); }
  await closeRedis(redis); await rs.stop();
});

test('judge pool: discovers registered judges, calls them in turn, retries past a dead one', async () => {
  const pool = new JudgePool({ redis, deadlineMs: 5000, logger: createLogger('test', 'error') });
  await assert.rejects(pool.validate('e', [{}]), /no judge registered/);
  await startJudge('j1');
  await startJudge('j2');
  await sleep(JUDGE_REFRESH_MS + 100);
  const who = async () => (await pool.validate('e', [{}]))[0]!.canonical;
  const seen = [await who(), await who(), await who(), await who()];
  assert.deepEqual([...new Set(seen)].sort(), ['j1', 'j2'], 'both replicas take calls');
  assert.notEqual(seen[0], seen[1], 'in turn');

  // j1's process is gone but its registration has not expired yet: calls still succeed (on j2).
  await judges[0]!.handle.close();
  for (let i = 0; i < 4; i++) assert.equal(await who(), 'j2');
  pool.close();
});

test('judge pool: a fixed SPAR_JUDGE_ADDR is used as is, without discovery', async () => {
  const pool = new JudgePool({ fixed: `127.0.0.1:${judges[1]!.handle.port}`, redis, deadlineMs: 5000, logger: createLogger('test', 'error') });
  assert.deepEqual(pool.judges, [`127.0.0.1:${judges[1]!.handle.port}`]);
  assert.equal((await pool.validate('e', [{}]))[0]!.canonical, 'j2');
  pool.close();
});
