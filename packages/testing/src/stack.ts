import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  allocatePorts, freePort, RedisServer, SERVICES, stackEnv, startService, stopServices, type RunningService, type ServiceName, type StackPorts,
} from '@spar/cli/supervise';

export interface Stack {
  readonly redis: RedisServer;
  readonly ports: StackPorts;
  readonly dataDir: string;
  readonly logDir: string;
  services: RunningService[];
  readonly baseUrl: string;
  /** Restart one service (e.g. after kill -9). */
  restart(name: ServiceName): Promise<void>;
  /**
   * Start another replica of a service (e.g. a standby learner) on fresh ports, with `env` on top
   * of the service's stack environment; stopped with the stack.
   */
  startReplica(name: ServiceName, env?: NodeJS.ProcessEnv): Promise<RunningService>;
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly appendOnly?: boolean;
  readonly appendFsync?: 'always' | 'everysec';
  readonly echo?: (line: string) => void;
  readonly env?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
}

/** Wait until `url` answers 2xx (services are up), or throw after `timeoutMs`. */
// Generous: five services compiling TypeScript at start on a busy 2-core machine can take over 30 s.
export async function waitHttp(url: string, timeoutMs = 120000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not yet */ }
    if (Date.now() > until) throw new Error(`${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Redis + the five services as child processes on loopback (real processes, real ports). */
export async function startStack(root: string, opts: StackOptions = {}): Promise<Stack> {
  const redis = await RedisServer.start({ appendOnly: opts.appendOnly ?? true, appendFsync: opts.appendFsync });
  const ports = await allocatePorts();
  const dataDir = mkdtempSync(join(tmpdir(), 'spar-stack-'));
  const logDir = join(dataDir, 'logs');
  const base = stackEnv(redis.url, ports, join(dataDir, 'runs'));
  const env = Object.fromEntries(SERVICES.map((n) => [n, { ...base[n], ...(opts.env?.[n] ?? {}) }])) as Record<ServiceName, NodeJS.ProcessEnv>;
  const echo = opts.echo ?? (() => undefined);
  const replicas: RunningService[] = [];
  const stack: Stack = {
    redis, ports, dataDir, logDir, baseUrl: `http://127.0.0.1:${ports.http}`,
    services: SERVICES.map((n) => startService(root, n, env[n], logDir, echo)),
    async kill(name, signal = 'SIGKILL') {
      const s = stack.services.find((x) => x.name === name)!;
      s.child.kill(signal);
      await s.exited;
    },
    async restart(name) {
      const i = stack.services.findIndex((x) => x.name === name);
      const old = stack.services[i]!;
      if (old.child.exitCode === null) { old.child.kill('SIGTERM'); await old.exited; }
      stack.services[i] = startService(root, name, env[name], logDir, echo);
    },
    async startReplica(name, extra = {}) {
      const [grpc, ops] = await Promise.all([freePort(), freePort()]);
      const e = { ...env[name], SPAR_OPS_PORT: String(ops), ...(env[name]!.SPAR_GRPC_PORT ? { SPAR_GRPC_PORT: String(grpc) } : {}), ...extra };
      const replica = startService(root, name, e, logDir, echo, { logName: `${name}-${replicas.length + 2}` });
      replicas.push(replica);
      await waitHttp(`http://127.0.0.1:${ops}/healthz`);
      return replica;
    },
    async stop() {
      await stopServices([...stack.services, ...replicas]);
      await redis.stop();
      // SPAR_TEST_KEEP=1 keeps the stack's folder (logs, checkpoints) for a post-mortem.
      if (process.env.SPAR_TEST_KEEP === '1') process.stderr.write(`stack kept in ${dataDir}\n`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitHttp(`${stack.baseUrl}/readyz`);
    for (const n of ['judge', 'learner', 'solver', 'proposer'] as const) await waitHttp(`http://127.0.0.1:${ports.metrics[n]}/healthz`);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
