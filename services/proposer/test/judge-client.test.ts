import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { grpc, sparProto, startGrpcServer, type GrpcServerHandle } from '@spar/service-kit';
import { JudgeClient } from '../src/judge-client.ts';

// A real gRPC server holding the token, with a stand-in ValidateTasks: this checks what the
// proposer's client sends, not the judge (services/judge/test/grpc-auth.test.ts does that).
const TOKEN = 'proposer-token-0123456789';
let server: GrpcServerHandle;

before(async () => {
  const { JudgeService } = sparProto();
  server = await startGrpcServer('127.0.0.1:0', [{
    name: 'spar.v1.JudgeService', definition: JudgeService.service,
    impl: { ValidateTasks: (call: grpc.ServerUnaryCall<{ tasks_json: string[] }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { results: call.request.tasks_json.map((t) => ({ valid: true, canonical: t })) }) },
  }], { token: TOKEN });
});
after(async () => { await server?.close(); });

test('the judge client sends SPAR_GRPC_TOKEN on every call; without it the call is UNAUTHENTICATED', async () => {
  const withToken = new JudgeClient(`127.0.0.1:${server.port}`, 5000, TOKEN);
  for (let i = 0; i < 2; i++) assert.deepEqual((await withToken.validate('exp', [{ n: i }])).map((r) => r.canonical), [JSON.stringify({ n: i })]);
  withToken.close();
  const without = new JudgeClient(`127.0.0.1:${server.port}`, 5000);
  await assert.rejects(without.validate('exp', [{ n: 1 }]), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
  without.close();
});
