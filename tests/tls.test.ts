import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { grpc } from '@spar/service-kit';
import { startStack, type Stack } from '@spar/testing';
import { experimentsApi } from './experiments-api.ts';
import { grpcProbe } from './grpc-probe.ts';
import { tinyExperiment } from './tiny-experiment.ts';

// The whole stack over mutual TLS, with certificates from the shipped script
// (deploy/tls/make-certs.sh): proposer → judge (ValidateTasks) and solvers/proposer → learner
// (PolicyService) all verify each other against the CA, an experiment trains to completion, and
// the servers refuse plaintext and certificate-less clients.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const certs = mkdtempSync(join(tmpdir(), 'spar-tls-stack-'));
const TLS_ENV = {
  SPAR_GRPC_TLS_CERT: join(certs, 'spar.pem'), SPAR_GRPC_TLS_KEY: join(certs, 'spar.key'), SPAR_GRPC_TLS_CA: join(certs, 'ca.pem'),
};

let stack: Stack;
let api: ReturnType<typeof experimentsApi>;
before(async () => {
  execFileSync('sh', [join(ROOT, 'deploy/tls/make-certs.sh'), certs], { stdio: 'pipe' });
  stack = await startStack(ROOT, { env: { judge: TLS_ENV, learner: TLS_ENV, solver: TLS_ENV, proposer: TLS_ENV } });
  api = experimentsApi(stack);
});
after(async () => {
  await stack?.stop();
  rmSync(certs, { recursive: true, force: true });
});

/** A metric on a service's /metrics, summed over its label sets (series are kept 5 min after a run ends). */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
}

const validateWith = (creds: grpc.ChannelCredentials) => grpcProbe(`127.0.0.1:${stack.ports.judgeGrpc}`, '/spar.v1.JudgeService/ValidateTasks', creds);

test('mutual TLS on every gRPC service: an experiment trains to completion; the proposer validated tasks on the judge and the workers follow the learner\'s policy', async () => {
  const id = await api.submit(tinyExperiment('over tls', { seed: 7, budget: { maxSteps: 12, maxMinutes: 5 } }));
  const done = await api.finished(id);
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.step, 12);
  assert.ok(await metric(stack.ports.metrics.judge, 'spar_judge_validated_tasks_total') > 0, 'ValidateTasks served over TLS');
  // The solver installed published weights (version > 0) from the learner's PolicyService over TLS.
  assert.ok(await metric(stack.ports.metrics.solver, 'spar_policy_version') > 0, 'the solver follows the policy over TLS');
});

test('the servers refuse plaintext clients and TLS clients without a certificate', async () => {
  assert.equal(await validateWith(grpc.credentials.createInsecure()), grpc.status.UNAVAILABLE, 'plaintext');
  const ca = readFileSync(TLS_ENV.SPAR_GRPC_TLS_CA);
  assert.equal(await validateWith(grpc.credentials.createSsl(ca)), grpc.status.UNAVAILABLE, 'no client certificate');
  // With the certificate the call gets through TLS and reaches the service (which rejects the empty request on its merits).
  const withCert = await validateWith(grpc.credentials.createSsl(ca, readFileSync(TLS_ENV.SPAR_GRPC_TLS_KEY), readFileSync(TLS_ENV.SPAR_GRPC_TLS_CERT)));
  assert.notEqual(withCert, grpc.status.UNAVAILABLE);
});
