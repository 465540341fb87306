import type { Queue } from 'bullmq';
import { keys, queues, type ExperimentState } from '@spar/core';
import { makeQueue, type ExperimentStore, type Logger, type Metrics, type Redis } from '@spar/service-kit';

/**
 * Refreshes queue depth/age gauges for running experiments and the experiments-by-state gauge.
 * One place reads them, so dashboards don't depend on which worker happens to be up.
 */
export class QueueMonitor {
  private readonly queues = new Map<string, Queue>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly redis: Redis, private readonly store: ExperimentStore, private readonly metrics: Metrics, private readonly logger: Logger, private readonly everyMs = 2000) {}

  start(): void {
    const tick = () => {
      this.refresh().catch(() => undefined).finally(() => { if (!this.closed) this.timer = setTimeout(tick, this.everyMs); });
    };
    tick();
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = makeQueue(name, this.redis, this.logger);
      this.queues.set(name, q);
    }
    return q;
  }

  async refresh(): Promise<void> {
    const all = await this.store.list();
    const byState: Record<ExperimentState, number> = { queued: 0, running: 0, completed: 0, stopped: 0, failed: 0 };
    for (const r of all) byState[r.state]++;
    for (const [state, n] of Object.entries(byState)) this.metrics.gauge('spar_experiments').set({ state }, n);
    const depth = this.metrics.gauge('spar_queue_depth');
    const age = this.metrics.gauge('spar_queue_oldest_age_seconds');
    // Experiments no longer running: close their queue handles and drop their series.
    const running = new Set(all.filter((x) => x.state === 'running').map((x) => x.id));
    for (const [name, q] of [...this.queues]) {
      const id = name.slice(name.indexOf('.') + 1);
      if (running.has(id)) continue;
      this.queues.delete(name);
      await q.close().catch(() => undefined);
      this.metrics.forgetExperimentLater(id);
    }
    for (const r of all.filter((x) => x.state === 'running')) {
      for (const [label, name] of [['tasks', queues.tasks(r.id)], ['rollouts', queues.rollouts(r.id)]] as const) {
        const q = this.queue(name);
        const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized');
        depth.set({ experiment: r.id, queue: label }, (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0));
        const [oldest] = await q.getJobs(['waiting'], -1, -1, true);
        age.set({ experiment: r.id, queue: label }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      }
      depth.set({ experiment: r.id, queue: 'experience' }, await this.redis.xlen(keys.experience(r.id)));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
