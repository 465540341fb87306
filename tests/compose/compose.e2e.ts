// `npm run test:compose`: the shipped Dockerfile and docker-compose.yml on a real Docker engine.
// Builds the images (from local stand-ins for the public bases: no registry is reachable here),
// brings the stack up with two solvers and two judges, trains configs/kuhn.yaml, checks that
// Prometheus scrapes every replica, kill -9s the learner (restart policy → resume from checkpoint),
// then `down` and `up` again: the experiment record and checkpoints survive in the volumes.
// gRPC runs over mutual TLS (deploy/compose.tls.yml, certificates from deploy/tls/make-certs.sh).
// Secure by default: the `tokens` service makes the API and gRPC tokens on first up; every
// container listens on 127.0.0.1 only; an unauthenticated submit is refused.
// Prints one JSON line of figures. Everything talks over 127.0.0.1 on the host network.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '@spar/cli/supervise';
import { grpc } from '@spar/service-kit';
import { grpcProbe } from '../grpc-probe.ts';
import { isLoopback, listeningSockets } from '../listeners.ts';
import { dockerEngine, type DockerEngine } from './docker.ts';
import { buildTestImages, TEST_IMAGES } from './images.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PROJECT = `spartest${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const figures: Record<string, unknown> = {};

let engine: DockerEngine;
let work: string;
let ports: { redis: number; api: number; prometheus: number };
let composeEnv: NodeJS.ProcessEnv;
let composeArgs: string[];
let upOnce = false;

function compose(args: readonly string[], timeoutMs = 300000): string {
  const r = spawnSync('docker-compose', [...composeArgs, ...args], { cwd: ROOT, env: composeEnv, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** The API token the `tokens` service made (read as the compose comment tells users to). */
let apiToken = '';
const api = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${ports.api}${path}`, {
  ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...(apiToken ? { authorization: `Bearer ${apiToken}` } : {}) },
  signal: AbortSignal.timeout(5000),
});

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof RunFailed) throw err;
      last = err;
    }
    await sleep(1000);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

class RunFailed extends Error {}
async function experiment(id: string): Promise<{ state: string; step: number; policyVersion: number }> {
  const r = await api(`/v1/experiments/${id}`);
  assert.equal(r.status, 200, `GET experiment: ${r.status}`);
  const rec = (await r.json()) as { state: string; step: number; policyVersion: number; reason?: string };
  if (rec.state === 'failed') throw new RunFailed(`experiment ${id} failed: ${rec.reason}`);
  return rec;
}

/** Containers of one compose service, by name. */
const containersOf = (service: string) => engine.must(['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}'])
  .split('\n').filter(Boolean).sort();

before(async () => {
  engine = await dockerEngine();
  work = mkdtempSync(join(tmpdir(), 'spar-compose-'));
  ports = { redis: await freePort(), api: await freePort(), prometheus: await freePort() };
  // Prometheus reads the shipped config; only the controller's port differs from the default.
  writeFileSync(join(work, 'prometheus.yml'), readFileSync(join(ROOT, 'deploy/prometheus.yml'), 'utf8').replace('127.0.0.1:8080', `127.0.0.1:${ports.api}`));
  // The public images this file names cannot be pulled here: use the local stand-ins.
  writeFileSync(join(work, 'override.yml'), [
    'version: "2.4"', 'services:',
    `  redis: { image: "${TEST_IMAGES.redis}" }`,
    `  prometheus:`, `    image: "${TEST_IMAGES.prometheus}"`, `    volumes: ["${join(work, 'prometheus.yml')}:/etc/prometheus/prometheus.yml:ro"]`,
    '',
  ].join('\n'));
  // Certificates as the docs make them: the key goes to the images' user (uid 1000).
  execFileSync('sh', [join(ROOT, 'deploy/tls/make-certs.sh'), join(work, 'tls')], { stdio: 'pipe', env: { ...process.env, SPAR_TLS_KEY_UID: '1000' } });
  composeEnv = {
    ...Object.fromEntries(Object.entries(engine.env).filter(([k]) => !k.startsWith('SPAR_'))),
    SPAR_REDIS_PORT: String(ports.redis), SPAR_API_PORT: String(ports.api), SPAR_PROMETHEUS_PORT: String(ports.prometheus), SPAR_TLS_DIR: join(work, 'tls'),
    // On the vfs storage driver removing a container deletes a full copy of its image: on a slow
    // machine one `down` request can outlast docker-compose's default 60 s read timeout.
    COMPOSE_HTTP_TIMEOUT: '600',
  };
  composeArgs = ['-p', PROJECT, '-f', join(ROOT, 'docker-compose.yml'), '-f', join(ROOT, 'deploy/compose.tls.yml'), '-f', join(work, 'override.yml')];
});

after(async () => {
  if (upOnce) {
    if (process.env.SPAR_TEST_KEEP) console.error(`kept: docker-compose ${composeArgs.join(' ')} (DOCKER_HOST=${engine.env.DOCKER_HOST ?? ''})`);
    else try { compose(['down', '-v', '--timeout', '20'], 900000); } catch (err) { console.error(String(err)); }
  }
  rmSync(join(ROOT, '.docker-deps'), { recursive: true, force: true });
  if (!process.env.SPAR_TEST_KEEP) {
    if (!engine?.private) for (const img of ['spar:local', ...Object.values(TEST_IMAGES)]) engine?.docker(['rmi', '-f', img]);
    await engine?.close();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'compose', ...figures }));
});

/** The last lines of a container's log (stdout and stderr), for a failure's message. */
function logsOf(container: string | undefined, lines = 60): string {
  if (!container) return '';
  const r = engine.docker(['logs', '--tail', String(lines), container]);
  return `${r.stdout}${r.stderr}`;
}
let stoppedLearnerLog = '';

test('docker compose: build, scale out, train Kuhn, Prometheus sees every replica, learner killed → resumes, down/up keeps state', { timeout: 25 * 60000 }, async () => {
  try {
    await scenario();
  } catch (err) {
    // What the learner(s) said, so a failure in CI can be read without rerunning it.
    if (stoppedLearnerLog) console.error(`--- learner log before down:\n${stoppedLearnerLog}`);
    for (const c of upOnce ? containersOf('learner') : []) console.error(`--- ${c}:\n${logsOf(c)}`);
    throw err;
  }
});

async function scenario(): Promise<void> {
  // --- images -------------------------------------------------------------------------------
  let t0 = Date.now();
  buildTestImages(engine, ROOT);
  // The build installs nothing from the network: it takes this checkout's installed tree.
  rmSync(join(ROOT, '.docker-deps'), { recursive: true, force: true });
  cpSync(join(ROOT, 'node_modules'), join(ROOT, '.docker-deps/node_modules'), { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('/node_modules/.cache') });
  // dockerd 20.10's legacy builder on vfs sometimes fails a COPY --from right after a fresh layer
  // with "layer does not exist"; a rerun continues from the cached steps. Other failures fail.
  const build = (extra: string[]) => {
    for (let attempt = 1; ; attempt++) {
      const r = spawnSync('docker', ['build', '--network', 'host', '--build-arg', `BASE_IMAGE=${TEST_IMAGES.base}`, ...extra, ROOT], { env: { ...engine.env, DOCKER_BUILDKIT: '0' }, encoding: 'utf8', timeout: 600000, maxBuffer: 64 * 1024 * 1024 });
      if (r.status === 0) return;
      if (attempt < 4 && /layer does not exist/.test(r.stderr)) { figures.buildRetries = attempt; continue; }
      throw new Error(`docker build ${extra.join(' ')} failed: ${r.stderr.slice(-4000)}`);
    }
  };
  build(['-t', 'spar:local']);
  rmSync(join(ROOT, '.docker-deps'), { recursive: true, force: true });
  figures.buildSeconds = Math.round((Date.now() - t0) / 1000);
  const size = Number(engine.must(['image', 'inspect', '-f', '{{.Size}}', 'spar:local']).trim());
  figures.imageMB = Math.round(size / 1e6);
  figures.baseImageMB = Math.round(Number(engine.must(['image', 'inspect', '-f', '{{.Size}}', TEST_IMAGES.base]).trim()) / 1e6);
  const user = engine.must(['image', 'inspect', '-f', '{{.Config.User}}', 'spar:local']).trim();
  assert.equal(user, '1000:1000', 'services run as a non-root user');
  assert.match(engine.must(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'spar:local']), /healthcheck\.mjs/);
  // Compiled JavaScript, no TypeScript at run time.
  const listing = engine.must(['run', '--rm', '--network', 'none', 'spar:local', '-e',
    "const fs=require('fs');console.log(fs.readdirSync('services/learner/src').join(' '));console.log(process.version);fs.accessSync('/data',fs.constants.W_OK);console.log('data writable')"]);
  assert.match(listing, /\bbin\.js\b/);
  assert.doesNotMatch(listing, /\.ts\b/);
  assert.match(listing, /^v24\./m, 'Node 24 LTS');
  assert.match(listing, /data writable/, 'the learner volume mount point belongs to the service user');

  // --- up, scaled ---------------------------------------------------------------------------
  t0 = Date.now();
  compose(['up', '-d', '--no-build', '--scale', 'solver=2', '--scale', 'judge=2', 'redis', 'controller', 'proposer', 'solver', 'judge', 'learner', 'prometheus']);
  upOnce = true;
  await until('the controller to be ready', 120000, async () => ((await api('/readyz')).ok ? true : undefined));
  const kuhn = readFileSync(join(ROOT, 'configs/kuhn.yaml'), 'utf8');
  // No token: the API refuses to create anything. The token, read from the tokens volume, works.
  const anonymous = await fetch(`http://127.0.0.1:${ports.api}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: kuhn, signal: AbortSignal.timeout(5000) });
  assert.equal(anonymous.status, 401, 'an unauthenticated submit is refused');
  apiToken = compose(['run', '--rm', '-T', 'tokens', 'scripts/docker/make-tokens.mjs', '/secrets', '--print', 'api']).trim();
  assert.match(apiToken, /^[0-9a-f]{64}$/, 'a 32-byte random API token');
  const sub = await api('/v1/experiments', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: kuhn });
  assert.equal(sub.status, 201, await sub.clone().text());
  const id = ((await sub.json()) as { id: string }).id;
  const tSubmit = Date.now();
  await until('policy version 1', 240000, async () => ((await experiment(id)).policyVersion >= 1 ? true : undefined));
  figures.secondsToFirstPolicyVersion = Math.round((Date.now() - tSubmit) / 1000);
  figures.upToFirstVersionSeconds = Math.round((Date.now() - t0) / 1000);

  // Every replica registered and scraped: 1 controller, 1 proposer, 1 learner, 2 solvers, 2 judges.
  const want = { controller: 1, proposer: 1, learner: 1, solver: 2, judge: 2 };
  const up = await until('Prometheus to scrape every replica', 90000, async () => {
    const r = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
    const body = (await r.json()) as { data: { activeTargets: { labels: Record<string, string>; health: string }[] } };
    const healthy: Record<string, number> = {};
    for (const t of body.data.activeTargets) if (t.health === 'up') healthy[t.labels.service!] = (healthy[t.labels.service!] ?? 0) + 1;
    return Object.entries(want).every(([s, n]) => healthy[s] === n) ? healthy : undefined;
  });
  figures.scrapedReplicas = up;
  // Every spar container listens on loopback only (its sockets, read from /proc on the host network).
  for (const service of ['controller', 'proposer', 'solver', 'judge', 'learner']) {
    for (const c of containersOf(service)) {
      const listeners = listeningSockets(Number(engine.must(['inspect', '-f', '{{.State.Pid}}', c]).trim()));
      assert.ok(listeners.length > 0 && listeners.every(isLoopback), `${c} listens on ${JSON.stringify(listeners)}`);
    }
  }
  // gRPC is TLS-only: the learner's PolicyService refuses a plaintext client and serves one with the certificate.
  const grpcPort = /"grpcPort":(\d+)[^\n]*"msg":"learner ready"/.exec(engine.docker(['logs', containersOf('learner')[0]!]).stdout)?.[1];
  assert.ok(grpcPort, 'the learner logs its gRPC port');
  const tlsFile = (name: string) => readFileSync(join(work, 'tls', name));
  const probe = (creds: grpc.ChannelCredentials) => grpcProbe(`127.0.0.1:${grpcPort}`, '/spar.v1.PolicyService/Probe', creds);
  assert.equal(await probe(grpc.credentials.createInsecure()), grpc.status.UNAVAILABLE, 'plaintext refused');
  assert.equal(await probe(grpc.credentials.createSsl(tlsFile('ca.pem'), tlsFile('spar.key'), tlsFile('spar.pem'))), grpc.status.UNIMPLEMENTED, 'mutual TLS accepted');
  // Both judges validated tasks for the proposer (it spreads calls over the registered judges).
  await until('both judges to serve ValidateTasks', 90000, async () => {
    const q = encodeURIComponent('sum by (instance_id) (spar_judge_validated_tasks_total)');
    const r = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=${q}`, { signal: AbortSignal.timeout(5000) });
    const res = ((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    return res.length === 2 && res.every((x) => Number(x.value[1]) > 0) ? true : undefined;
  });

  // --- learner killed: the restart policy brings it back; it resumes from its checkpoint ------
  await until('a committed checkpoint (step ≥ 55)', 300000, async () => ((await experiment(id)).step >= 55 ? true : undefined));
  const [learner] = containersOf('learner');
  assert.ok(learner, 'learner container');
  const before = await experiment(id);
  const tKill = Date.now();
  // A crash, as the kernel's OOM killer or a fault would do it: SIGKILL to the container's process
  // from outside. (`docker kill` counts as a manual stop, which restart policies respect.)
  const pid = Number(engine.must(['inspect', '-f', '{{.State.Pid}}', learner!]).trim());
  process.kill(pid, 'SIGKILL');
  // "training from step" follows the resume once the record holds the resumed learner's step (the
  // killed one may have published past `before`, so a newer version alone does not show a resume).
  await until('the learner to resume and publish a newer policy', 180000, async () => {
    const logs = engine.docker(['logs', learner!]).stdout;
    if (!/resumed from checkpoint[\s\S]*"msg":"training from step"/.test(logs)) return undefined;
    return (await experiment(id)).policyVersion > before.policyVersion ? true : undefined;
  });
  figures.learnerKillToResumeSeconds = Math.round((Date.now() - tKill) / 1000);
  const restarts = Number(engine.must(['inspect', '-f', '{{.RestartCount}}', learner!]).trim());
  assert.ok(restarts >= 1, 'restarted by the restart policy');
  const resumed = /"step":(\d+)[^\n]*resumed from checkpoint|resumed from checkpoint[^\n]*"step":(\d+)/.exec(engine.docker(['logs', learner!]).stdout);
  assert.ok(resumed && Number(resumed[1] ?? resumed[2]) >= 50, `resumed at step ≥ 50: ${resumed?.[0]}`);
  // The kill lost the steps after the last checkpoint: the resumed learner set the record back from
  // the killed one's count ("recorded") to its checkpoint's step. Compare across down/up once it
  // has trained past that count, so every step the record shows is one the weights hold.
  const lost = /"recorded":(\d+)[^\n]*steps after the last checkpoint were lost/.exec(engine.docker(['logs', learner!]).stdout);
  const recorded = lost ? Number(lost[1]) : before.step;
  await until('the resumed learner to pass the steps the kill lost', 180000, async () => ((await experiment(id)).step > recorded ? true : undefined));

  // --- down and up again: the record and the checkpoints survived in the volumes ---------------
  const beforeDown = await experiment(id);
  // `stop` then `down`, as `down` alone would do it, keeping the stopped learner's log to read.
  // No --timeout: the learner gets its stop_grace_period (60 s) to finish its step and checkpoint.
  compose(['stop']);
  stoppedLearnerLog = logsOf(learner, 40);
  compose(['down', '--timeout', '30'], 900000);
  assert.equal(containersOf('learner').length, 0);
  t0 = Date.now();
  compose(['up', '-d', '--no-build', 'redis', 'controller', 'proposer', 'solver', 'judge', 'learner', 'prometheus']);
  await until('the controller after up', 120000, async () => ((await api('/readyz')).ok ? true : undefined));
  const after = await until('the experiment record after up', 30000, () => experiment(id));
  assert.ok(after.step >= beforeDown.step - 0, `step kept across down/up: ${after.step} vs ${beforeDown.step}`);
  assert.ok(after.policyVersion >= beforeDown.policyVersion, 'policy version kept');
  const [learner2] = containersOf('learner');
  await until('the learner to resume from the volume after down/up', 180000, async () => (/resumed from checkpoint/.test(engine.docker(['logs', learner2!]).stdout) ? true : undefined));
  figures.downUpToResumeSeconds = Math.round((Date.now() - t0) / 1000);
  const stop = await api(`/v1/experiments/${id}/stop`, { method: 'POST' });
  assert.ok(stop.status < 300, `stop: ${stop.status}`);
}
