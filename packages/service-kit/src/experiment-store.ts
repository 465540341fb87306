import { ConflictError, NotFoundError, TERMINAL_STATES, keys, newExperimentId, type ExperimentConfig, type ExperimentRecord, type ExperimentState } from '@spar/core';
import type { Redis } from 'ioredis';

const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

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

  /** Read-modify-write with optimistic locking (WATCH/MULTI), retried on contention. */
  update(id: string, fn: (r: ExperimentRecord) => ExperimentRecord): Promise<ExperimentRecord> {
    const run = this.lock.then(() => this.updateNow(id, fn));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async updateNow(id: string, fn: (r: ExperimentRecord) => ExperimentRecord): Promise<ExperimentRecord> {
    for (let attempt = 0; attempt < 50; attempt++) {
      await this.redis.watch(keys.experiments);
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
      const res = await this.redis.multi().hset(keys.experiments, id, JSON.stringify(next)).exec();
      if (res) {
        if (TERMINAL_STATES.includes(next.state)) await this.redis.srem(keys.running, id);
        else if (next.state === 'running') await this.redis.sadd(keys.running, id);
        await this.redis.publish(keys.events, JSON.stringify({ id, state: next.state, step: next.step }));
        return next;
      }
    }
    throw new ConflictError(`experiment ${id}: too much contention`);
  }

  async transition(id: string, to: ExperimentState, patch: Partial<ExperimentRecord> = {}): Promise<ExperimentRecord> {
    return this.update(id, (r) => {
      if (TERMINAL_STATES.includes(r.state)) throw new ConflictError(`experiment ${id} is already ${r.state}`);
      const now = new Date().toISOString();
      return { ...r, ...patch, state: to, ...(to === 'running' && !r.startedAt ? { startedAt: now } : {}), ...(TERMINAL_STATES.includes(to) ? { finishedAt: now } : {}) };
    });
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
      .del(keys.experience(id), keys.appended(id), keys.counters(id), keys.taskBuffer(id), keys.taskSeen(id), keys.policy(id), keys.lease(id))
      .exec();
  }

  /** Ids of running experiments (what workers serve). */
  async running(): Promise<string[]> {
    return this.redis.smembers(keys.running);
  }

  /**
   * Learner: take the oldest experiment that is queued, or running without a live lease (its
   * learner died), by acquiring its lease. Returns undefined when there is nothing to take.
   */
  async claim(holder: string, leaseMs: number): Promise<ExperimentRecord | undefined> {
    for (const r of await this.list()) {
      if (r.state !== 'queued' && r.state !== 'running') continue;
      const ok = await this.redis.set(keys.lease(r.id), holder, 'PX', leaseMs, 'NX');
      if (!ok) continue;
      return r.state === 'queued' ? this.transition(r.id, 'running') : r;
    }
    return undefined;
  }

  async renewLease(id: string, holder: string, leaseMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW_LUA, 1, keys.lease(id), holder, String(leaseMs))) === 1;
  }

  async releaseLease(id: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE_LUA, 1, keys.lease(id), holder);
  }
}
