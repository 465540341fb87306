/**
 * gRPC over TLS with real certificates (openssl, a throwaway CA per run) and a real server:
 * mutual TLS serves weights to a client with a certificate the CA signed and refuses plaintext,
 * certificate-less and foreign-CA clients; SPAR_GRPC_TLS_SERVERNAME verifies a certificate that
 * does not name the dialled address; PolicyFollower (the workers' path) installs weights over
 * TLS with the token; bad settings are configuration errors naming the setting.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { ValidationError } from '@spar/core';
import { Policy, policyWeights } from '@spar/policy';
import {
  fetchWeights, grpc, PolicyFollower, PolicyPublisher, readGrpcTls, sparClient, sparProto, startGrpcServer, type GrpcServerHandle, type GrpcTls,
} from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'spar-tls-'));
const f = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function ca(name: string): void {
  openssl('req', '-x509', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '1', '-subj', `/CN=${name}`);
}
/** A certificate for `cn` signed by `by`, with the given subjectAltName. */
function cert(cn: string, by: string, san: string): void {
  writeFileSync(f(`${cn}.ext`), `subjectAltName=${san}\n`);
  openssl('req', ...EC, '-keyout', f(`${cn}.key`), '-out', f(`${cn}.csr`), '-subj', `/CN=${cn}`);
  openssl('x509', '-req', '-in', f(`${cn}.csr`), '-CA', f(`${by}.pem`), '-CAkey', f(`${by}.key`), '-CAcreateserial', '-out', f(`${cn}.pem`), '-days', '1', '-extfile', f(`${cn}.ext`));
}
const settings = (o: { cert?: string; ca?: string; serverName?: string }) => ({
  SPAR_GRPC_TLS_CERT: o.cert ? f(`${o.cert}.pem`) : '', SPAR_GRPC_TLS_KEY: o.cert ? f(`${o.cert}.key`) : '',
  SPAR_GRPC_TLS_CA: o.ca ? f(`${o.ca}.pem`) : '', SPAR_GRPC_TLS_SERVERNAME: o.serverName ?? '',
});
const tls = (o: { cert?: string; ca?: string; serverName?: string }) => readGrpcTls(settings(o));

const TOKEN = 'grpc-shared-token-0123456789';
const publisher = new PolicyPublisher();
let policy: Policy;
const servers: GrpcServerHandle[] = [];

async function serve(t: GrpcTls | undefined): Promise<string> {
  const { PolicyService } = sparProto();
  const s = await startGrpcServer('127.0.0.1:0', [{ name: 'spar.v1.PolicyService', definition: PolicyService.service, impl: publisher.implementation() }], { token: TOKEN, tls: t });
  servers.push(s);
  return `127.0.0.1:${s.port}`;
}

/** fetchWeights through a client with `t`: the sha256 it got, or the gRPC status code it failed with. */
async function fetchWith(addr: string, t: GrpcTls | undefined): Promise<string | number> {
  const c = sparClient(sparProto().PolicyService, addr, TOKEN, t);
  try {
    return (await fetchWeights(c, 'exp', publisher.latest('exp')!.version, 5000)).sha256;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  } finally {
    c.close();
  }
}

before(async () => {
  ca('spar-ca');
  ca('other-ca');
  cert('learner', 'spar-ca', 'IP:127.0.0.1,DNS:learner');
  cert('solver', 'spar-ca', 'DNS:solver');
  cert('named', 'spar-ca', 'DNS:spar-learner.internal');
  cert('stranger', 'other-ca', 'IP:127.0.0.1');
  policy = await Policy.create({ vocabSize: 11, layers: 1, dModel: 16, heads: 2, context: 16 }, { worker: false });
  publisher.publish('exp', await policyWeights(policy));
});
after(async () => {
  for (const s of servers) await s.close();
  await policy?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('mutual TLS: a client certificate from the CA gets the weights; plaintext, no certificate or another CA are refused', async () => {
  const addr = await serve(tls({ cert: 'learner', ca: 'spar-ca' }));
  const sha = publisher.latest('exp')!.sha256;
  assert.equal(await fetchWith(addr, tls({ cert: 'solver', ca: 'spar-ca' })), sha);
  assert.equal(await fetchWith(addr, undefined), grpc.status.UNAVAILABLE, 'plaintext');
  assert.equal(await fetchWith(addr, tls({ ca: 'spar-ca' })), grpc.status.UNAVAILABLE, 'no client certificate');
  assert.equal(await fetchWith(addr, tls({ cert: 'stranger', ca: 'other-ca' })), grpc.status.UNAVAILABLE, 'a server the client cannot verify');
  assert.equal(await fetchWith(addr, tls({ cert: 'stranger', ca: 'spar-ca' })), grpc.status.UNAVAILABLE, 'a client certificate from another CA');
});

test('server-only TLS (no CA on the server): any client that verifies the server is served; plaintext is not', async () => {
  const addr = await serve(tls({ cert: 'learner' }));
  assert.equal(await fetchWith(addr, tls({ ca: 'spar-ca' })), publisher.latest('exp')!.sha256);
  assert.equal(await fetchWith(addr, undefined), grpc.status.UNAVAILABLE);
});

test('SPAR_GRPC_TLS_SERVERNAME: a certificate that does not name the dialled address verifies under the configured name only', async () => {
  const addr = await serve(tls({ cert: 'named', ca: 'spar-ca' }));
  assert.equal(await fetchWith(addr, tls({ cert: 'solver', ca: 'spar-ca' })), grpc.status.UNAVAILABLE, '127.0.0.1 is not in the certificate');
  assert.equal(await fetchWith(addr, tls({ cert: 'solver', ca: 'spar-ca', serverName: 'spar-learner.internal' })), publisher.latest('exp')!.sha256);
  assert.equal(await fetchWith(addr, tls({ cert: 'solver', ca: 'spar-ca', serverName: 'someone-else' })), grpc.status.UNAVAILABLE);
});

test('PolicyFollower (the workers\' path) installs weights over mutual TLS with the token', async () => {
  const addr = await serve(tls({ cert: 'learner', ca: 'spar-ca' }));
  const w = publisher.latest('exp')!;
  const installed: number[] = [];
  const follower = new PolicyFollower({
    experimentId: 'exp', logger: pino({ level: 'silent' }), token: TOKEN, tls: tls({ cert: 'solver', ca: 'spar-ca' }),
    record: async () => ({ address: addr, version: w.version, sha256: w.sha256 }),
    onWeights: async (x) => { installed.push(x.version); },
  });
  follower.start();
  for (let i = 0; i < 500 && installed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await follower.settled();
  await follower.close();
  assert.deepEqual(installed, [w.version]);
});

test('settings: none is plaintext; a missing file, half a pair, a non-PEM file or a server name without a CA is an error naming the setting', () => {
  assert.equal(tls({}), undefined);
  const issue = (s: Record<string, string>) => {
    try {
      readGrpcTls({ ...settings({}), ...s });
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      return (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    }
    return 'no error';
  };
  assert.match(issue({ SPAR_GRPC_TLS_CA: f('absent.pem') }), /^\/SPAR_GRPC_TLS_CA: cannot read .*absent\.pem: ENOENT/);
  assert.match(issue({ SPAR_GRPC_TLS_CERT: f('learner.pem') }), /\/SPAR_GRPC_TLS_KEY: SPAR_GRPC_TLS_CERT and SPAR_GRPC_TLS_KEY go together/);
  assert.match(issue({ SPAR_GRPC_TLS_CA: f('learner.ext') }), /\/SPAR_GRPC_TLS_CA: .* is not a PEM file/);
  assert.match(issue({ SPAR_GRPC_TLS_SERVERNAME: 'x' }), /\/SPAR_GRPC_TLS_SERVERNAME: only used with SPAR_GRPC_TLS_CA/);
});
