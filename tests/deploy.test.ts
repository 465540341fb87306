import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { METRIC_CATALOG } from '@spar/service-kit';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

test('docker-compose.yml is valid (docker-compose config) and wires every service on the host network', () => {
  const r = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `docker-compose config failed: ${r.stderr}`);
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { network_mode?: string; command?: string[]; environment?: Record<string, string> }> };
  for (const s of ['redis', 'controller', 'proposer', 'solver', 'judge', 'learner', 'prometheus', 'grafana']) {
    assert.ok(compose.services[s], `service ${s} missing`);
  }
  for (const [name, s] of Object.entries(compose.services)) assert.equal(s.network_mode, name === 'tokens' ? 'none' : 'host', `${name} must use the host network (the tokens setup: none)`);
  const redisCmd = compose.services.redis!.command!.join(' ');
  assert.match(redisCmd, /--appendonly yes/);
  assert.match(redisCmd, /--maxmemory-policy noeviction/);
  assert.match(redisCmd, /--maxmemory \S+/, 'Redis is capped (noeviction alone lets it grow until the host kills it)');
});

test('docker-compose.yml: Redis capped at 2gb by default; the tokens setup makes both tokens in a volume the services read, never the shell\'s values directly', () => {
  type Service = { command?: string[]; environment?: Record<string, string | null>; volumes?: string[]; depends_on?: Record<string, { condition: string }> | string[] };
  const config = (env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^SPAR_(API|GRPC)_TOKEN$|^SPAR_REDIS_MAXMEMORY$/.test(k)));
    const r = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8', env: { ...clean, ...env } });
    assert.equal(r.status, 0, `docker-compose config failed: ${r.stderr}`);
    return YAML.parse(r.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  };
  const grpcServices = ['judge', 'learner', 'solver', 'proposer'];
  const apiClients = ['controller', 'submit-default'];
  const unset = config({});
  assert.match(unset.services.redis!.command!.join(' '), /--maxmemory 2gb/);
  assert.ok('spar-secrets' in unset.volumes, 'a named volume holds the tokens');
  const tokens = unset.services.tokens!;
  assert.deepEqual(tokens.command, ['scripts/docker/make-tokens.mjs', '/secrets']);
  assert.ok(tokens.volumes!.some((v) => /^spar-secrets:\/secrets(:rw)?$/.test(v)), `tokens writes the volume: ${tokens.volumes}`);
  const reads = (s: Service, file: string, name: string) => {
    assert.equal(s.environment![`${name}_FILE`], `/secrets/${file}`);
    assert.equal(s.environment![name] ?? undefined, undefined, 'the token itself is not in the environment');
    assert.ok(s.volumes!.includes('spar-secrets:/secrets:ro'), `the volume, read-only: ${s.volumes}`);
  };
  for (const s of grpcServices) {
    reads(unset.services[s]!, 'grpc-token', 'SPAR_GRPC_TOKEN');
    assert.deepEqual((unset.services[s]!.depends_on as Record<string, { condition: string }>).tokens, { condition: 'service_completed_successfully' }, `${s} waits for the tokens`);
  }
  for (const s of apiClients) reads(unset.services[s]!, 'api-token', 'SPAR_API_TOKEN');
  // Tokens from the shell go to the setup only (it stores them); the controller has no gRPC token.
  const set = config({ SPAR_GRPC_TOKEN: 'g'.repeat(32), SPAR_API_TOKEN: 'a'.repeat(32), SPAR_REDIS_MAXMEMORY: '512mb' });
  assert.match(set.services.redis!.command!.join(' '), /--maxmemory 512mb/);
  assert.equal(set.services.tokens!.environment!.SPAR_GRPC_TOKEN, 'g'.repeat(32));
  assert.equal(set.services.tokens!.environment!.SPAR_API_TOKEN, 'a'.repeat(32));
  for (const s of [...grpcServices, ...apiClients]) assert.equal(set.services[s]!.environment!.SPAR_API_TOKEN ?? set.services[s]!.environment!.SPAR_GRPC_TOKEN ?? undefined, undefined);
  assert.equal('SPAR_GRPC_TOKEN_FILE' in set.services.controller!.environment!, false);
});

test('make-tokens.mjs: makes two 64-hex-digit tokens (0400) once, keeps them, takes given ones, prints one on request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spar-tokens-'));
  try {
    const run = (args: string[], env: Record<string, string> = {}) => {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^SPAR_(API|GRPC)_TOKEN$/.test(k)));
      return spawnSync(process.execPath, [join(ROOT, 'scripts/docker/make-tokens.mjs'), dir, ...args], { encoding: 'utf8', env: { ...clean, ...env } });
    };
    assert.equal(run([]).status, 0);
    const api = readFileSync(join(dir, 'api-token'), 'utf8');
    const grpc = readFileSync(join(dir, 'grpc-token'), 'utf8');
    assert.match(api, /^[0-9a-f]{64}\n$/);
    assert.match(grpc, /^[0-9a-f]{64}\n$/);
    assert.notEqual(api, grpc);
    assert.equal(statSync(join(dir, 'api-token')).mode & 0o777, 0o400);
    const again = run(['--print', 'api']);
    assert.equal(again.status, 0);
    assert.equal(again.stdout, api, 'kept, and printed');
    assert.equal(run(['--print', 'grpc'], { SPAR_GRPC_TOKEN: 'given-grpc-token-0123456789' }).stdout, 'given-grpc-token-0123456789\n', 'a given token replaces the stored one');
    assert.equal(run([], { SPAR_API_TOKEN: 'short' }).status, 2, 'a short token is refused');
    assert.equal(run(['--print', 'nope']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Prometheus config is valid (promtool) and discovers every replica through the controller; worker ports are free for scaling', () => {
  const r = spawnSync('promtool', ['check', 'config', join(ROOT, 'deploy/prometheus.yml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^SPAR_/.test(k)));
  const c = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8', env: clean });
  assert.equal(c.status, 0, c.stderr);
  const compose = YAML.parse(c.stdout) as { services: Record<string, { environment?: Record<string, string> }> };
  const prom = YAML.parse(read('deploy/prometheus.yml')) as { scrape_configs: { http_sd_configs?: { url: string }[] }[] };
  const sd = prom.scrape_configs.flatMap((c) => c.http_sd_configs ?? []).map((c) => c.url);
  assert.deepEqual(sd, [`http://127.0.0.1:${compose.services.controller!.environment!.SPAR_HTTP_PORT}/v1/sd/prometheus`]);
  // Replicas of these may run side by side on the host network: no fixed port may collide.
  for (const s of ['judge', 'solver', 'proposer', 'learner']) {
    const env = compose.services[s]!.environment!;
    for (const k of ['SPAR_OPS_PORT', 'SPAR_GRPC_PORT']) if (k in env) assert.equal(env[k], '0', `${s}.${k} must be 0 (scale-out)`);
    assert.equal(env.SPAR_JUDGE_ADDR, undefined, `${s}: judges are discovered, not fixed`);
  }
});

test('docker-compose.yml: the gpu profile builds a CUDA learner image and reserves one NVIDIA GPU', () => {
  const r = spawnSync('docker-compose', ['--profile', 'gpu', '-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `docker-compose --profile gpu config failed: ${r.stderr}`);
  const gpu = (YAML.parse(r.stdout) as { services: Record<string, any> }).services['learner-gpu'];
  assert.ok(gpu, 'learner-gpu service present under the gpu profile');
  assert.equal(gpu.environment.SPAR_EP, 'cuda');
  assert.match(gpu.build.args.RUNTIME_IMAGE, /^nvidia\/cuda:.*cudnn/);
  assert.equal(gpu.build.args.ONNXRUNTIME_NODE_INSTALL, 'cuda12');
  assert.deepEqual(gpu.deploy.resources.reservations.devices, [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
  assert.deepEqual(gpu.profiles, ['gpu'], 'only started with --profile gpu');
});

test('deploy/compose.tls.yml: every gRPC service (and only those) gets the three TLS settings and the certificate folder, read-only; profiles kept', () => {
  const r = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), '-f', join(ROOT, 'deploy/compose.tls.yml'), 'config'], {
    encoding: 'utf8', env: { ...process.env, SPAR_TLS_DIR: '/srv/spar-tls' },
  });
  assert.equal(r.status, 0, `docker-compose config failed: ${r.stderr}`);
  const services = (YAML.parse(r.stdout) as { services: Record<string, { environment?: Record<string, string>; volumes?: string[]; profiles?: string[] }> }).services;
  const want = { SPAR_GRPC_TLS_CERT: '/tls/spar.pem', SPAR_GRPC_TLS_KEY: '/tls/spar.key', SPAR_GRPC_TLS_CA: '/tls/ca.pem' };
  for (const [name, s] of Object.entries(services)) {
    const tls = Object.fromEntries(Object.entries(s.environment ?? {}).filter(([k]) => k.startsWith('SPAR_GRPC_TLS_')));
    if (['judge', 'learner', 'solver', 'proposer', 'learner-gpu'].includes(name)) {
      assert.deepEqual(tls, want, `${name}: TLS settings`);
      assert.ok(s.volumes?.includes('/srv/spar-tls:/tls:ro'), `${name}: certificate folder mounted read-only: ${JSON.stringify(s.volumes)}`);
      for (const f of Object.values(want)) assert.ok(f.startsWith('/tls/'));
    } else {
      assert.deepEqual(tls, {}, `${name} speaks no gRPC`);
    }
  }
  assert.ok(services.learner!.volumes!.some((v) => v.startsWith('learner-data:/data')), 'the learner keeps its data volume');
  assert.deepEqual(services['learner-gpu']!.profiles, ['gpu']);
  assert.ok(!spawnSync('git', ['check-ignore', '-q', 'deploy/tls/certs/spar.key'], { cwd: ROOT }).status, 'generated keys are git-ignored');
});

test('deploy/compose.hf.yml: every service that reads an experiment sees the model folders read-only at /models; the controller admits a pretrained size', () => {
  const base = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { command?: string[] }> };
  const hf = YAML.parse(read('deploy/compose.hf.yml'), { merge: true }) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
  const readers = Object.entries(base.services).filter(([, s]) => /services\/(controller|proposer|solver|judge|learner)\//.test(s.command?.join(' ') ?? '')).map(([n]) => n).sort();
  assert.deepEqual(Object.keys(hf.services).sort(), readers, 'exactly the services that open an experiment\'s model folder');
  for (const [name, s] of Object.entries(hf.services)) {
    assert.deepEqual(s.volumes, ['${SPAR_HF_MODELS:?set SPAR_HF_MODELS to the host folder that holds the model folders}:/models:ro'], `${name}: the same read-only mount`);
  }
  assert.equal(hf.services.controller!.environment!.SPAR_MAX_PARAMS, '${SPAR_MAX_PARAMS:-1000000000}');
});

test('the Grafana dashboard is generated and uses only catalogued metrics', async () => {
  const dash = JSON.parse(read('deploy/grafana/dashboards/spar.json')) as { panels: { targets: { expr: string }[] }[] };
  const { PANELS } = await import('../scripts/gen-dashboard.ts');
  assert.equal(dash.panels.length, PANELS.length, 'dashboard is stale: run npx tsx scripts/gen-dashboard.ts');
  for (const p of dash.panels) {
    for (const t of p.targets) {
      for (const m of t.expr.match(/spar_[a-z_]+/g) ?? []) {
        const base = m.replace(/_(bucket|sum|count)$/, '');
        assert.ok(METRIC_CATALOG[base], `dashboard uses unknown metric ${m}`);
      }
    }
  }
});

test('docs/metrics.md documents every metric in the catalog', () => {
  const doc = read('docs/metrics.md');
  for (const name of Object.keys(METRIC_CATALOG)) assert.ok(doc.includes(`\`${name}\``), `docs/metrics.md lacks ${name}`);
});
