import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

export interface RedisServerOptions {
  /** Persist with AOF in a temp dir, so restarts keep data. */
  readonly appendOnly?: boolean;
  /** AOF fsync policy (default everysec: a crash may lose the last second; always: nothing acknowledged is lost). */
  readonly appendFsync?: 'always' | 'everysec';
  readonly port?: number;
  /** Redis' memory cap (`--maxmemory`, e.g. 2gb); at the cap writes fail (noeviction), never evict. */
  readonly maxMemory?: string;
  /**
   * Local mode's Redis: run under a watchdog that stops it when this process dies (kill -9
   * included), and restart it with back-off when it exits on its own. `say` tells the user.
   */
  readonly supervise?: { readonly say: (line: string) => void };
}

/** Restarts within RESTART_WINDOW_MS beyond which a supervised Redis counts as failed. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 120000;
const WATCHDOG = fileURLToPath(new URL('./redis-watchdog.mjs', import.meta.url));

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A redis-server child process on a free loopback port, for local mode and tests. */
export class RedisServer {
  private child?: ChildProcess;
  /** redis-server's own pid (the watchdog's child when supervised). */
  private redisPid?: number;
  private readonly dir: string;
  private stopping = false;
  private readonly restartTimes: number[] = [];
  /** Restarts after redis-server exited on its own (supervised only). */
  restarts = 0;
  /** Set when a supervised redis-server kept dying: the owner should give up. */
  failure?: Error;
  private constructor(readonly port: number, private readonly opts: RedisServerOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'spar-redis-'));
  }

  get pid(): number | undefined {
    return this.redisPid ?? this.child?.pid;
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
      '--appendonly', this.opts.appendOnly ? 'yes' : 'no', '--appendfsync', this.opts.appendFsync ?? 'everysec', '--maxmemory-policy', 'noeviction',
      ...(this.opts.maxMemory ? ['--maxmemory', this.opts.maxMemory] : [])];
    // Its own process group: a terminal's Ctrl-C must not take Redis down before the services
    // have checkpointed; the owner stops it last.
    if (this.opts.supervise) await this.spawnWatched(args);
    else this.child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
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

  /** Under the watchdog: its first stdout line names redis-server's pid; an exit nobody asked for is restarted. */
  private async spawnWatched(args: string[]): Promise<void> {
    const child = spawn(process.execPath, [WATCHDOG, String(process.pid), ...args], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    this.child = child;
    this.redisPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
        const m = /^pid (\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`redis-server did not start (watchdog exited ${code})`)));
    });
    child.once('exit', (code) => { if (this.child === child && !this.stopping) void this.restartAfterCrash(code); });
  }

  /** A supervised redis-server exited on its own: restart it with back-off (1 s, 2 s, 4 s … 30 s), or give up. */
  private async restartAfterCrash(code: number | null): Promise<void> {
    const now = Date.now();
    this.restartTimes.push(now);
    while (this.restartTimes.length && now - this.restartTimes[0]! > RESTART_WINDOW_MS) this.restartTimes.shift();
    if (this.restartTimes.length > MAX_RESTARTS) {
      this.failure = new Error(`redis-server exited ${this.restartTimes.length} times within ${RESTART_WINDOW_MS / 1000} s (last exit code ${code}); giving up`);
      return;
    }
    const delay = Math.min(30000, 1000 * 2 ** (this.restartTimes.length - 1));
    this.opts.supervise?.say(`spar: redis-server exited (code ${code}); restarting it in ${delay / 1000} s (restart ${this.restarts + 1})`);
    await new Promise((r) => setTimeout(r, delay));
    if (this.stopping) return;
    try {
      await this.launch();
      this.restarts++;
    } catch (err) {
      this.failure = err as Error;
    }
  }

  /** kill -9 (simulates a crash). */
  kill(): Promise<void> {
    return this.terminate('SIGKILL');
  }

  private terminate(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    const watched = this.redisPid;
    this.child = undefined;
    this.redisPid = undefined;
    if (!c || c.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      // Under the watchdog the signal goes to redis-server itself; the watchdog then exits with it.
      if (watched !== undefined) {
        try { process.kill(watched, sig); } catch { c.kill('SIGTERM'); }
      } else c.kill(sig);
    });
  }

  async restart(): Promise<void> {
    await this.terminate('SIGKILL');
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.terminate('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
