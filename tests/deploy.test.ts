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
});

test('Prometheus config is valid (promtool) and scrapes every service port from docker-compose.yml', () => {
  const r = spawnSync('promtool', ['check', 'config', join(ROOT, 'deploy/prometheus.yml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
  const prom = read('deploy/prometheus.yml');
  const ports = ['judge', 'solver', 'proposer', 'learner'].map((s) => compose.services[s]!.environment!.SPAR_OPS_PORT!);
  ports.push(compose.services.controller!.environment!.SPAR_HTTP_PORT!);
  for (const p of ports) assert.ok(prom.includes(`127.0.0.1:${p}`), `prometheus.yml does not scrape port ${p}`);
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
