import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

export interface RedisServerOptions {
  /** Persist with AOF in a temp dir, so restarts keep data. */
  readonly appendOnly?: boolean;
  /** AOF fsync policy (default everysec: a crash may lose the last second; always: nothing acknowledged is lost). */
  readonly appendFsync?: 'always' | 'everysec';
  readonly port?: number;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A redis-server child process on a free loopback port, for local mode and tests. */
export class RedisServer {
  private child?: ChildProcess;
  private readonly dir: string;
  private constructor(readonly port: number, private readonly opts: RedisServerOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'spar-redis-'));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    if (!redisServerAvailable()) {
      throw new Error('redis-server not found on PATH: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL');
    }
    const s = new RedisServer(opts.port ?? (await freePort()), opts);
    await s.launch();
    return s;
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir,
      '--appendonly', this.opts.appendOnly ? 'yes' : 'no', '--appendfsync', this.opts.appendFsync ?? 'everysec', '--maxmemory-policy', 'noeviction'];
    // Its own process group: a terminal's Ctrl-C must not take Redis down before the services
    // have checkpointed; the owner stops it last.
    this.child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 200; i++) {
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch {
          probe.disconnect();
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      throw new Error(`redis-server on ${this.port} did not become ready`);
    } finally {
      probe.disconnect();
    }
  }

  /** kill -9 (simulates a crash). */
  kill(): Promise<void> {
    return this.terminate('SIGKILL');
  }

  private terminate(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.kill(sig);
    });
  }

  async restart(): Promise<void> {
    await this.terminate('SIGKILL');
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
