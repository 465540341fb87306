import { keys, type ExperimentRecord } from '@spar/core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ExperimentStore } from './experiment-store.ts';

export interface RunningHandlers {
  start(record: ExperimentRecord): Promise<void>;
  stop(id: string): Promise<void>;
}

/** Forgets an experiment's metric series once it is no longer served (Metrics). */
export interface ForgetsExperiments {
  forgetExperimentLater(id: string): void;
}

/**
 * Keeps a worker's per-experiment machinery in step with the set of running experiments:
 * polls Redis (cheap: one SMEMBERS) and calls start/stop on changes, one change at a time.
 */
export class RunningExperiments {
  private readonly active = new Set<string>();
  private timer?: NodeJS.Timeout;
  private busy: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly redis: Redis, private readonly handlers: RunningHandlers, private readonly logger: Logger, private readonly pollMs = 500,
    private readonly metrics?: ForgetsExperiments,
  ) {}

  start(): void {
    const tick = () => {
      this.busy = this.busy.then(() => this.sync()).catch((err) => this.logger.warn({ err }, 'running-set sync failed'));
      this.busy.finally(() => { if (!this.closed) this.timer = setTimeout(tick, this.pollMs); });
    };
    tick();
  }

  ids(): string[] {
    return [...this.active];
  }

  private async sync(): Promise<void> {
    if (this.closed) return;
    const store = new ExperimentStore(this.redis);
    const now = new Set(await this.redis.smembers(keys.running));
    for (const id of now) {
      if (this.active.has(id)) continue;
      let rec: ExperimentRecord;
      try {
        rec = await store.get(id);
      } catch {
        continue;
      }
      if (rec.state !== 'running') continue;
      try {
        await this.handlers.start(rec);
        this.active.add(id);
      } catch (err) {
        this.logger.error({ err, experimentId: id }, 'failed to start serving experiment');
      }
    }
    for (const id of [...this.active]) {
      if (now.has(id)) continue;
      this.active.delete(id);
      await this.handlers.stop(id).catch((err) => this.logger.warn({ err, experimentId: id }, 'stop failed'));
      this.metrics?.forgetExperimentLater(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
    for (const id of [...this.active]) {
      this.active.delete(id);
      await this.handlers.stop(id).catch(() => undefined);
    }
  }
}
