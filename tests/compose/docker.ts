import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Docker engine for the compose test: the one DOCKER_HOST (or the default socket) reaches, or,
 * when none answers, a private dockerd started here on a temporary data root with no bridge and
 * no iptables (containers use the host network only), stopped and removed by close().
 */
export interface DockerEngine {
  readonly env: NodeJS.ProcessEnv;
  readonly private: boolean;
  docker(args: readonly string[], opts?: { input?: string | Buffer; timeoutMs?: number }): SpawnSyncReturns<string>;
  /** Like docker() but throws with stderr when the command fails. */
  must(args: readonly string[], opts?: { input?: string | Buffer; timeoutMs?: number }): string;
  close(): Promise<void>;
}

function make(env: NodeJS.ProcessEnv, priv: boolean, close: () => Promise<void>): DockerEngine {
  const docker = (args: readonly string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}) =>
    spawnSync('docker', args, { env, encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 600000, maxBuffer: 256 * 1024 * 1024 });
  return {
    env, private: priv, docker, close,
    must(args, opts) {
      const r = docker(args, opts);
      if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
      return r.stdout;
    },
  };
}

const answers = (env: NodeJS.ProcessEnv) => spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { env, encoding: 'utf8', timeout: 20000 }).status === 0;

export async function dockerEngine(): Promise<DockerEngine> {
  if (answers(process.env)) return make({ ...process.env }, false, async () => {});
  if (spawnSync('dockerd', ['--version']).status !== 0) {
    throw new Error('test:compose needs a Docker engine: none answers and dockerd is not installed (apt-get install -y docker.io docker-compose)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'spar-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const proc: ChildProcess = spawn('dockerd', [
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs',
    `--data-root=${join(dir, 'data')}`, `--exec-root=${join(dir, 'exec')}`, `--pidfile=${join(dir, 'docker.pid')}`,
    '-H', `unix://${sock}`,
  ], { stdio: ['ignore', log, log], detached: true });
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}` };
  const deadline = Date.now() + 60000;
  while (!(existsSync(sock) && answers(env))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`private dockerd did not start (log: ${join(dir, 'dockerd.log')})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  let closed: Promise<void> | undefined;
  return make(env, true, () => {
    closed ??= (async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 30000);
        await exited;
        clearTimeout(t);
      }
      if (!process.env.SPAR_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    })();
    return closed;
  });
}
