import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  for (const [name, s] of Object.entries(compose.services)) assert.equal(s.network_mode, 'host', `${name} must use the host network`);
  const redisCmd = compose.services.redis!.command!.join(' ');
  assert.match(redisCmd, /--appendonly yes/);
  assert.match(redisCmd, /--maxmemory-policy noeviction/);
  assert.match(redisCmd, /--maxmemory \S+/, 'Redis is capped (noeviction alone lets it grow until the host kills it)');
});

test('docker-compose.yml: Redis capped at 2gb by default; tokens come from the shell, unset when it has none', () => {
  const config = (env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^SPAR_(API|GRPC)_TOKEN$|^SPAR_REDIS_MAXMEMORY$/.test(k)));
    const r = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8', env: { ...clean, ...env } });
    assert.equal(r.status, 0, `docker-compose config failed: ${r.stderr}`);
    return YAML.parse(r.stdout) as { services: Record<string, { command?: string[]; environment?: Record<string, string | null> }> };
  };
  const grpcServices = ['judge', 'learner', 'solver', 'proposer'];
  const apiClients = ['controller', 'submit-default'];
  const unset = config({});
  assert.match(unset.services.redis!.command!.join(' '), /--maxmemory 2gb/);
  for (const s of grpcServices) assert.equal(unset.services[s]!.environment!.SPAR_GRPC_TOKEN ?? undefined, undefined, `${s}: no token by default`);
  for (const s of apiClients) assert.equal(unset.services[s]!.environment!.SPAR_API_TOKEN ?? undefined, undefined, `${s}: no token by default`);
  const set = config({ SPAR_GRPC_TOKEN: 'g'.repeat(32), SPAR_API_TOKEN: 'a'.repeat(32), SPAR_REDIS_MAXMEMORY: '512mb' });
  assert.match(set.services.redis!.command!.join(' '), /--maxmemory 512mb/);
  for (const s of grpcServices) assert.equal(set.services[s]!.environment!.SPAR_GRPC_TOKEN, 'g'.repeat(32), `${s} gets SPAR_GRPC_TOKEN`);
  for (const s of apiClients) assert.equal(set.services[s]!.environment!.SPAR_API_TOKEN, 'a'.repeat(32), `${s} gets SPAR_API_TOKEN`);
  // The controller has no gRPC: a token there would be an unknown setting.
  assert.equal('SPAR_GRPC_TOKEN' in set.services.controller!.environment!, false);
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
