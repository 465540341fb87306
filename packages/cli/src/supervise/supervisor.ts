import { join } from 'node:path';
import { SERVICES, startService, type RunningService, type ServiceName } from './services.ts';

export interface SupervisorOptions {
  /** Repository root (services run as `services/<name>/src/bin.ts`). */
  readonly root: string;
  readonly logDir: string;
  readonly env: Record<ServiceName, NodeJS.ProcessEnv>;
  readonly nice?: Partial<Record<ServiceName, number>>;
  /** Warnings and errors the services log. */
  readonly echo: (line: string) => void;
  /** The supervisor's own messages (starts, exits, restarts). */
  readonly say: (line: string) => void;
  /** First restart delay; doubles per consecutive crash up to `maxBackoffMs` (default 1000 / 30000). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A service up this long has recovered: its next crash starts the back-off again (default 60000). */
  readonly healthyAfterMs?: number;
  /** Give up on a service that exits this often within `windowMs` (default 10 in 300000). */
  readonly maxRestarts?: number;
  readonly windowMs?: number;
  /** SIGTERM grace per service before SIGKILL on stop (default 30000; the learner checkpoints). */
  readonly graceMs?: number;
}

/** Stop order: producers first, so nothing new is generated while the learner checkpoints. */
const STOP_ORDER: readonly ServiceName[] = ['proposer', 'solver', 'judge', 'learner', 'controller'];

/**
 * Keeps local mode's five services running, as compose's restart policy does: each runs in its own
 * process group; one that exits (by code or by signal) is restarted after a back-off, logged and
 * counted, while the others go on. `stop()` ends them in order with SIGTERM (SIGKILL after a grace
 * period) and waits for every one.
 */
export class Supervisor {
  private readonly procs = new Map<ServiceName, RunningService>();
  private readonly timers = new Map<ServiceName, NodeJS.Timeout>();
  private readonly exits = new Map<ServiceName, number[]>();
  private readonly streak = new Map<ServiceName, number>();
  private readonly counts: Partial<Record<ServiceName, number>> = {};
  private stopping = false;
  private gaveUp?: Error;
  private stopped?: Promise<void>;

  constructor(private readonly o: SupervisorOptions) {}

  start(): void {
    for (const name of SERVICES) this.launch(name);
  }

  /** Restarts so far, by service. */
  get restarts(): Partial<Record<ServiceName, number>> {
    return { ...this.counts };
  }

  /** Set once a service kept exiting and was given up on: the run cannot go on. */
  get failure(): Error | undefined {
    return this.gaveUp;
  }

  /** The running services' pids (a service between exit and restart is absent). */
  pids(): Partial<Record<ServiceName, number>> {
    const out: Partial<Record<ServiceName, number>> = {};
    for (const [name, p] of this.procs) if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid) out[name] = p.child.pid;
    return out;
  }

  private launch(name: ServiceName): void {
    const p = startService(this.o.root, name, this.o.env[name], this.o.logDir, this.o.echo, { nice: this.o.nice?.[name], ownGroup: true });
    this.procs.set(name, p);
    const startedAt = Date.now();
    void p.exited.then((code) => this.exited(name, p, code, startedAt));
  }

  private exited(name: ServiceName, p: RunningService, code: number | null, startedAt: number): void {
    if (this.stopping) return;
    const how = p.child.signalCode ? `signal ${p.child.signalCode}` : `code ${code}`;
    const log = join(this.o.logDir, `${name}.log`);
    const now = Date.now();
    const window = this.o.windowMs ?? 300000;
    const recent = [...(this.exits.get(name) ?? []), now].filter((t) => now - t <= window);
    this.exits.set(name, recent);
    if (recent.length > (this.o.maxRestarts ?? 10)) {
      this.gaveUp = new Error(`${name} exited ${recent.length} times within ${Math.round(window / 1000)} s (last: ${how}); not restarting it; see ${log}`);
      this.o.say(`spar: ${this.gaveUp.message}`);
      return;
    }
    const streak = now - startedAt >= (this.o.healthyAfterMs ?? 60000) ? 1 : (this.streak.get(name) ?? 0) + 1;
    this.streak.set(name, streak);
    const delay = Math.min(this.o.maxBackoffMs ?? 30000, (this.o.backoffMs ?? 1000) * 2 ** (streak - 1));
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    this.o.say(`spar: ${name} exited (${how}); restarting it in ${(delay / 1000).toFixed(1)} s (restart ${this.counts[name]}); see ${log}`);
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      if (this.stopping) return;
      this.launch(name);
      this.o.say(`spar: ${name} restarted (pid ${this.procs.get(name)?.child.pid})`);
    }, delay));
  }

  /** Stop every service in order (idempotent); no restarts from here on. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      for (const name of STOP_ORDER) {
        const p = this.procs.get(name);
        if (!p) continue;
        if (p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill('SIGTERM');
          const timer = setTimeout(() => p.child.kill('SIGKILL'), this.o.graceMs ?? 30000);
          await p.exited;
          clearTimeout(timer);
        }
        await new Promise((r) => p.log.end(r));
      }
    })();
    return this.stopped;
  }
}
