import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { service as healthService } from 'grpc-health-check';
import pino from 'pino';
import { Policy, policyWeights } from '@spar/policy';
import {
  clientOptions, CLIENT_OPTIONS, exposedBeyondLoopback, InsecureListenerError, fetchWeights, grpc, PolicyFollower, PolicyPublisher, sparProto, startGrpcServer,
  type GrpcServerHandle,
} from '../src/index.ts';

const TOKEN = 'grpc-shared-token-0123456789';
const cfg = { vocabSize: 11, layers: 1, dModel: 16, heads: 2, context: 16 };

let server: GrpcServerHandle;
let policy: Policy;
const publisher = new PolicyPublisher();
const addr = () => `127.0.0.1:${server.port}`;

before(async () => {
  const { PolicyService } = sparProto();
  server = await startGrpcServer('127.0.0.1:0', [{ name: 'spar.v1.PolicyService', definition: PolicyService.service, impl: publisher.implementation() }], { token: TOKEN });
  policy = await Policy.create(cfg, { worker: false });
  publisher.publish('exp', await policyWeights(policy));
});
after(async () => {
  await server?.close();
  await policy?.close();
});

const client = (opts: grpc.ClientOptions) => new (sparProto().PolicyService)(addr(), grpc.credentials.createInsecure(), opts);

test('PolicyService with a token: no token or a wrong one is UNAUTHENTICATED, the right one is served', async () => {
  const version = publisher.latest('exp')!.version;
  for (const opts of [CLIENT_OPTIONS, clientOptions('wrong-token-but-long-enough'), clientOptions(`${TOKEN}x`), clientOptions(TOKEN.slice(0, -1))]) {
    const c = client(opts);
    await assert.rejects(fetchWeights(c, 'exp', version, 5000), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
    c.close();
  }
  // A header that is not "Bearer <token>" (the raw token) is refused too.
  const raw = client(CLIENT_OPTIONS);
  const md = new grpc.Metadata();
  md.set('authorization', TOKEN);
  const err = await new Promise<grpc.ServiceError>((resolve) => {
    const call = raw.GetPolicy({ experiment_id: 'exp', version: String(version) }, md, { deadline: Date.now() + 5000 });
    call.on('data', () => undefined);
    call.on('error', resolve);
  });
  assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  raw.close();
  const ok = client(clientOptions(TOKEN));
  const w = await fetchWeights(ok, 'exp', version, 5000);
  assert.equal(w.sha256, publisher.latest('exp')!.sha256);
  ok.close();
});

test('the health service answers without a token (probes carry none)', async () => {
  const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const h = new Health(addr(), grpc.credentials.createInsecure()) as unknown as grpc.Client & { Check: (req: object, o: object, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void) => void };
  const res = await new Promise<{ status: string }>((resolve, reject) => h.Check({ service: '' }, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r!))));
  assert.equal(res.status, 'SERVING');
  h.close();
});

test('a follower installs weights only with the right token', async () => {
  const run = async (token: string | undefined) => {
    const installed: number[] = [];
    const errors: string[] = [];
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write(c, _e, cb) { logs.push(String(c)); cb(); } }));
    const w = publisher.latest('exp')!;
    const f = new PolicyFollower({
      experimentId: 'exp', logger, token, onError: (e) => errors.push(e.message),
      record: async () => ({ address: addr(), version: w.version, sha256: w.sha256 }),
      onWeights: async (x) => { installed.push(x.version); },
    });
    f.start();
    for (let i = 0; i < 200 && installed.length === 0 && !logs.some((l) => l.includes('policy watch refused')); i++) await new Promise((r) => setTimeout(r, 10));
    await f.settled();
    await f.close();
    return { installed, logs };
  };
  const good = await run(TOKEN);
  assert.deepEqual(good.installed, [publisher.latest('exp')!.version]);
  const bad = await run('not-the-token-at-all');
  assert.deepEqual(bad.installed, []);
  assert.ok(bad.logs.some((l) => l.includes('policy watch refused')), 'a refused watch is logged as a warning');
});

test('a gRPC server beyond loopback without a token or mutual TLS refuses to start; SPAR_INSECURE serves it with an error line', async () => {
  assert.equal(exposedBeyondLoopback('0.0.0.0:50051'), true);
  assert.equal(exposedBeyondLoopback('10.1.2.3:0'), true);
  assert.equal(exposedBeyondLoopback('[::]:0'), true);
  assert.equal(exposedBeyondLoopback('0.0.0.0'), true);
  assert.equal(exposedBeyondLoopback('127.0.0.1:0'), false);
  assert.equal(exposedBeyondLoopback('127.0.0.2'), false);
  assert.equal(exposedBeyondLoopback('localhost:0'), false);
  assert.equal(exposedBeyondLoopback('[::1]:0'), false);
  assert.equal(exposedBeyondLoopback('::1'), false);
  const start = async (address: string, opts: { token?: string; insecure?: boolean } = {}) => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    const s = await startGrpcServer(address, [], { ...opts, logger });
    await s.close();
    return lines.filter((l) => l.includes('INSECURE')).length;
  };
  await assert.rejects(start('0.0.0.0:0'), (e: Error) => e instanceof InsecureListenerError && /SPAR_GRPC_TOKEN/.test(e.message) && /SPAR_INSECURE=1/.test(e.message));
  assert.equal(await start('0.0.0.0:0', { insecure: true }), 1, 'the opt-out is logged');
  assert.equal(await start('0.0.0.0:0', { token: TOKEN }), 0);
  assert.equal(await start('127.0.0.1:0'), 0);
});
