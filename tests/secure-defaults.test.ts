import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '@spar/cli/supervise';
import { isLoopback, listeningSockets } from './listeners.ts';

// Secure defaults (docs/operations.md#security): every listener binds 127.0.0.1 unless told
// otherwise, and a listener beyond loopback without authentication refuses to start.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const TOKEN = 'api-token-from-a-file-0123456789';
let redis: RedisServer;
let dir: string;
before(async () => {
  redis = await RedisServer.start({ appendOnly: false });
  dir = mkdtempSync(join(tmpdir(), 'spar-secure-'));
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  readonly pid: number;
  readonly stderr: () => string;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** One service as local mode starts it, with `env` on top of a clean environment. */
function service(name: string, env: Record<string, string>): Started {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SPAR_') && k !== 'REDIS_URL'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', name, 'src', 'bin.ts')], {
    cwd: ROOT, env: { ...clean, REDIS_URL: redis.url, SPAR_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  child.stdout!.on('data', (d) => { out += String(d); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    pid: child.pid!, stderr: () => err, stdout: () => out, exited,
    async kill() { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); await exited; },
  };
}

/** Waits (generously) for a line in a service's log. */
async function logged(s: Started, pattern: RegExp, ms = 60000): Promise<void> {
  for (const end = Date.now() + ms; !pattern.test(s.stdout());) {
    assert.ok(Date.now() < end, `no ${pattern} within ${ms / 1000} s:\n${s.stdout().slice(-1500)}${s.stderr().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const [name, env, refusal] of [
  ['controller', { SPAR_HTTP_HOST: '0.0.0.0', SPAR_HTTP_PORT: '0' }, /refusing to serve the HTTP API on 0\.0\.0\.0:0 without authentication: set SPAR_API_TOKEN/],
  ['judge', { SPAR_GRPC_HOST: '0.0.0.0', SPAR_GRPC_PORT: '0', SPAR_OPS_PORT: '0' }, /refusing to serve the gRPC on 0\.0\.0\.0:0 without authentication: set SPAR_GRPC_TOKEN/],
  ['learner', { SPAR_GRPC_HOST: '0.0.0.0', SPAR_GRPC_PORT: '0', SPAR_OPS_PORT: '0', SPAR_DATA_DIR: '' }, /refusing to serve the gRPC on 0\.0\.0\.0:0 without authentication: set SPAR_GRPC_TOKEN/],
] as const) {
  test(`${name}: beyond loopback without authentication it refuses to start, with one clear line and exit code 1`, async () => {
    const s = service(name, { ...env, ...(name === 'learner' ? { SPAR_DATA_DIR: join(dir, 'learner') } : {}) });
    const code = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r('still running'), 60000))]);
    if (code === 'still running') await s.kill();
    assert.equal(code, 1, `${name} should have refused:\n${s.stderr().slice(-1500)}`);
    assert.match(s.stderr(), refusal);
    assert.match(s.stderr(), /^spar \w+: refusing/m, 'one line, no stack trace');
    assert.doesNotMatch(s.stderr(), /\n\s+at /, 'no stack trace');
  });
}

test('controller: beyond loopback with a token from SPAR_API_TOKEN_FILE it serves, and an unauthenticated request is refused', async () => {
  const file = join(dir, 'api-token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o400 });
  const portFile = join(dir, 'controller.port');
  const s = service('controller', { SPAR_HTTP_HOST: '0.0.0.0', SPAR_HTTP_PORT: '0', SPAR_API_TOKEN_FILE: file, SPAR_PORT_FILE: portFile });
  try {
    await logged(s, /controller listening/);
    const port = Number(/"port":(\d+)/.exec(s.stdout())![1]);
    const listeners = listeningSockets(s.pid).filter((l) => l.port === port);
    assert.ok(listeners.length > 0 && listeners.every((l) => !isLoopback(l)), `listens beyond loopback as told: ${JSON.stringify(listeners)}`);
    const submit = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/v1/experiments`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}', signal: AbortSignal.timeout(10000),
    });
    assert.equal((await submit({})).status, 401, 'no token: refused');
    assert.equal((await submit({ authorization: 'Bearer not-the-token-0000' })).status, 401, 'wrong token: refused');
    assert.equal((await submit({ authorization: `Bearer ${TOKEN}` })).status, 400, 'the file\'s token (newline dropped) is accepted: the empty config is then invalid');
  } finally {
    await s.kill();
  }
});

test('SPAR_INSECURE=1 serves beyond loopback without a token and says so at error level; a token and its _FILE together are refused', async () => {
  const s = service('controller', { SPAR_HTTP_HOST: '0.0.0.0', SPAR_HTTP_PORT: '0', SPAR_INSECURE: '1' });
  try {
    await logged(s, /controller listening/);
    assert.match(s.stdout(), /"level":50[^\n]*INSECURE \(SPAR_INSECURE=1\): the HTTP API on 0\.0\.0\.0:0 is open/);
  } finally {
    await s.kill();
  }
  const both = service('controller', { SPAR_API_TOKEN: TOKEN, SPAR_API_TOKEN_FILE: join(dir, 'api-token') });
  assert.equal(await both.exited, 1);
  assert.match(both.stderr(), /set SPAR_API_TOKEN or SPAR_API_TOKEN_FILE, not both/);
});
