import { ConflictError, NotFoundError, TERMINAL_STATES, keys, newExperimentId, policyNames, queues, type ExperimentConfig, type ExperimentRecord, type ExperimentState } from '@spar/core';
import type { Redis } from 'ioredis';
import { ExperimentLease, leaseLost } from './lease.ts';
import { BULL_PREFIX } from './queues.ts';

/** A learner's claim: the record as claimed and the fenced lease every later write goes through. */
export interface Claim {
  readonly record: ExperimentRecord;
  readonly lease: ExperimentLease;
}

/** Experiment records and lifecycle in Redis (the controller writes; learners claim and report). */
export class ExperimentStore {
  // WATCH/MULTI is per connection: serialise this process's read-modify-writes on it.
  private lock: Promise<unknown> = Promise.resolve();
  constructor(private readonly redis: Redis) {}

  async create(config: ExperimentConfig): Promise<ExperimentRecord> {
    const id = newExperimentId(config.name);
    const rec: ExperimentRecord = {
      id, config, state: 'queued', createdAt: new Date().toISOString(), step: 0, policyVersion: 0, metrics: {}, evaluations: [],
    };
    const ok = await this.redis.hsetnx(keys.experiments, id, JSON.stringify(rec));
    if (!ok) throw new ConflictError(`experiment ${id} exists`);
    await this.redis.publish(keys.events, JSON.stringify({ id, state: 'queued' }));
    return rec;
  }

  async get(id: string): Promise<ExperimentRecord> {
    const raw = await this.redis.hget(keys.experiments, id);
    if (!raw) throw new NotFoundError(`experiment ${id}`);
    return JSON.parse(raw) as ExperimentRecord;
  }

  async list(): Promise<ExperimentRecord[]> {
    const all = await this.redis.hvals(keys.experiments);
    return all.map((r) => JSON.parse(r) as ExperimentRecord).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /**
   * Read-modify-write with optimistic locking (WATCH/MULTI), retried on contention. With a lease,
   * the write happens only while that lease is held (its key is watched with the record), else
   * LeaseLostError.
   */
  update(id: string, fn: (r: ExperimentRecord) => ExperimentRecord, lease?: ExperimentLease): Promise<ExperimentRecord> {
    const run = this.lock.then(() => this.updateNow(id, fn, lease));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async updateNow(id: string, fn: (r: ExperimentRecord) => ExperimentRecord, lease?: ExperimentLease): Promise<ExperimentRecord> {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (lease) {
        await this.redis.watch(keys.experiments, lease.key);
        if ((await this.redis.get(lease.key)) !== lease.value) {
          await this.redis.unwatch();
          // Lapsed and nobody claimed it since: take it back and try again; else it is lost.
          if (await lease.reclaim()) continue;
          throw leaseLost(id);
        }
      } else await this.redis.watch(keys.experiments);
      const raw = await this.redis.hget(keys.experiments, id);
      if (!raw) {
        await this.redis.unwatch();
        throw new NotFoundError(`experiment ${id}`);
      }
      let next: ExperimentRecord;
      try {
        next = fn(JSON.parse(raw) as ExperimentRecord);
      } catch (err) {
        await this.redis.unwatch();
        throw err;
      }
      // The record and the running set change in one transaction: a crash between them would leave
      // a running experiment that no worker serves.
      const tx = this.redis.multi().hset(keys.experiments, id, JSON.stringify(next));
      if (TERMINAL_STATES.includes(next.state)) tx.srem(keys.running, id);
      else if (next.state === 'running') tx.sadd(keys.running, id);
      if (await tx.exec()) {
        await this.redis.publish(keys.events, JSON.stringify({ id, state: next.state, step: next.step }));
        return next;
      }
    }
    throw new ConflictError(`experiment ${id}: too much contention`);
  }

  async transition(id: string, to: ExperimentState, patch: Partial<ExperimentRecord> = {}, lease?: ExperimentLease): Promise<ExperimentRecord> {
    return this.update(id, (r) => {
      if (TERMINAL_STATES.includes(r.state)) throw new ConflictError(`experiment ${id} is already ${r.state}`);
      const now = new Date().toISOString();
      return { ...r, ...patch, state: to, ...(to === 'running' && !r.startedAt ? { startedAt: now } : {}), ...(TERMINAL_STATES.includes(to) ? { finishedAt: now } : {}) };
    }, lease);
  }

  /** Ask for a stop: a queued experiment stops at once; a running one at its learner's next step. */
  async requestStop(id: string): Promise<ExperimentRecord> {
    return this.update(id, (r) => {
      if (TERMINAL_STATES.includes(r.state)) return r;
      if (r.state === 'queued') return { ...r, state: 'stopped', reason: 'stopped before start', finishedAt: new Date().toISOString() };
      return { ...r, stopRequested: true };
    });
  }

  async delete(id: string): Promise<void> {
    const r = await this.get(id);
    if (!TERMINAL_STATES.includes(r.state)) throw new ConflictError(`experiment ${id} is ${r.state}; stop it first`);
    await this.redis.multi()
      .hdel(keys.experiments, id).srem(keys.running, id)
      .del(keys.experience(id), keys.appended(id), keys.counters(id), keys.taskBuffer(id), keys.taskSeed(id), keys.taskSolved(id), keys.novelty(id), keys.taskSeen(id), keys.policy(id), keys.lease(id), keys.fence(id), keys.inflight(id), keys.poolResults(id),
        ...policyNames(r.config as Parameters<typeof policyNames>[0]).map((n) => keys.policyOf(id, n)))
      .exec();
    // The experiment's BullMQ queues (`spar:tasks.<id>:*`, `spar:rollouts.<id>:*`): nothing serves
    // a finished experiment, so they can go without BullMQ's obliterate.
    const glob = id.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    for (const q of [queues.tasks(glob), queues.rollouts(glob)]) {
      let cursor = '0';
      do {
        const [next, found] = await this.redis.scan(cursor, 'MATCH', `${BULL_PREFIX}:${q}:*`, 'COUNT', 1000);
        cursor = next;
        if (found.length) await this.redis.unlink(...found);
      } while (cursor !== '0');
    }
  }

  /** Ids of running experiments (what workers serve). */
  async running(): Promise<string[]> {
    return this.redis.smembers(keys.running);
  }

  /**
   * Learner: take the oldest experiment that is queued, or running without a live lease (its
   * learner died), by acquiring its lease with a new fencing token. Undefined when there is nothing
   * to take.
   */
  async claim(holder: string, leaseMs: number): Promise<Claim | undefined> {
    for (const r of await this.list()) {
      if (r.state !== 'queued' && r.state !== 'running') continue;
      const lease = await ExperimentLease.claim(this.redis, r.id, holder, leaseMs);
      if (!lease) continue;
      return { record: r.state === 'queued' ? await this.transition(r.id, 'running', {}, lease) : r, lease };
    }
    return undefined;
  }
}
