import { keys, type ExperimentConfig } from '@spar/core';
import type { Redis } from 'ioredis';

/*
 * Staleness-aware rollout admission (after AReaL's rollout controller). A solver takes an
 * admission token for a group before it generates it; the budget is shared by every solver
 * replica because it lives in Redis:
 *
 *   used = tokens in flight × (trajectories per group, measured) + trajectories judged but not
 *          yet covered by the learner's committed cursor
 *   admit while used < budget = (learner.maxStaleness + 1) × learner.batchSize
 *
 * A token lives from admission until the judge appends the group (the append script removes it)
 * or drops it; its holder renews it, so a crashed solver's tokens lapse after the TTL. Trajectories
 * in the stream are counted exactly: every entry carries the cumulative count `c`, and the learner
 * publishes the count its committed cursor covers (`learner_consumed_trajectories`). Groups the
 * learner has read into an incomplete batch stay counted until the step commits; because that
 * batch holds fewer than batchSize trajectories, there is always room for the group that completes
 * it (no deadlock, even with maxStaleness 0).
 */
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local published = tonumber(redis.call('HGET', KEYS[3], 'version') or '-1') or -1
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  return {1, 0, published}
end
local c = redis.call('HMGET', KEYS[2], 'appended_trajectories', 'appended_groups', 'learner_consumed_trajectories')
local traj = tonumber(c[1] or '0') or 0
local groups = tonumber(c[2] or '0') or 0
local consumed = tonumber(c[3] or '0') or 0
local per = tonumber(ARGV[3])
if groups > 0 then per = traj / groups end
local unconsumed = traj - consumed
if unconsumed < 0 then unconsumed = 0 end
local used = redis.call('ZCARD', KEYS[1]) * per + unconsumed
if used >= tonumber(ARGV[2]) then return {0, math.floor(used), published} end
if ARGV[1] ~= '' then redis.call('ZADD', KEYS[1], now + ttl, ARGV[1]) end
return {1, math.floor(used), published}`;

// Renew tokens still held (XX: never resurrect one the judge already released).
const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
return #ARGV - 1`;

/** Give admission tokens back (the judge, for groups it drops for good; a solver, for groups it abandons). */
export async function releaseAdmission(redis: Redis, experimentId: string, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await redis.zrem(keys.inflight(experimentId), ...groupIds);
}

/** The shared trajectory budget of an experiment, or undefined when admission is off. */
export function admissionBudget(config: Pick<ExperimentConfig, 'rollout' | 'learner'>): number | undefined {
  if (config.rollout.admission === 'off') return undefined;
  return (config.learner.maxStaleness + 1) * config.learner.batchSize;
}

export interface AdmissionCheck {
  readonly admitted: boolean;
  /** Trajectories counted against the budget before this token (0 when a held token was renewed). */
  readonly used: number;
  readonly budget: number;
  /** The learner's published policy version (-1 before the first). */
  readonly publishedVersion: number;
}

export interface AdmissionOptions {
  readonly budget: number;
  /**
   * Trajectories a token counts for before the judge has appended any group (after that, the
   * measured mean). Default: the whole budget, i.e. one group at a time until the first is
   * measured — a low guess would admit a burst of groups at the initial weights that turn stale
   * (a TicTacToe group of 4 games holds up to 36 trajectories, not 4).
   */
  readonly perGroupGuess?: number;
  /** Token lifetime without renewal. */
  readonly ttlMs: number;
  /** The named policy whose published version the check reports (config.roles.solver); undefined: the unnamed one. */
  readonly policy?: string;
}

/** One experiment's admission budget (stateless: every call is one atomic script). */
export class Admission {
  constructor(private readonly redis: Redis, readonly experimentId: string, readonly opts: AdmissionOptions) {}

  private async run(groupId: string): Promise<AdmissionCheck> {
    const exp = this.experimentId;
    const [ok, used, published] = (await this.redis.eval(ACQUIRE_LUA, 3, keys.inflight(exp), keys.counters(exp), keys.policyOf(exp, this.opts.policy),
      groupId, String(this.opts.budget), String(this.opts.perGroupGuess ?? this.opts.budget), String(this.opts.ttlMs))) as [number, number, number];
    return { admitted: ok === 1, used, budget: this.opts.budget, publishedVersion: published };
  }

  /** Take a token for `groupId` if the budget allows (renews it when already held). */
  tryAcquire(groupId: string): Promise<AdmissionCheck> {
    if (!groupId) throw new Error('tryAcquire needs a group id');
    return this.run(groupId);
  }

  /** Whether a new group would be admitted now; takes nothing. */
  headroom(): Promise<AdmissionCheck> {
    return this.run('');
  }

  /** Push the expiry of tokens still held to now + ttlMs (default: the token TTL). */
  async renew(groupIds: readonly string[], ttlMs = this.opts.ttlMs): Promise<void> {
    if (groupIds.length === 0) return;
    await this.redis.eval(RENEW_LUA, 1, keys.inflight(this.experimentId), String(ttlMs), ...groupIds);
  }

  release(groupIds: readonly string[]): Promise<void> {
    return releaseAdmission(this.redis, this.experimentId, groupIds);
  }

  /** Tokens in flight now (expired ones excluded). */
  async inflight(): Promise<number> {
    return this.redis.zcount(keys.inflight(this.experimentId), Date.now(), '+inf');
  }
}

/** Token lifetime after hand-off to the judge, in units of the holder's TTL. */
export const HANDOFF_TTL_FACTOR = 10;

export interface GateEntry {
  /** Milliseconds spent waiting for a token. */
  readonly waitedMs: number;
  readonly publishedVersion: number;
}

/**
 * A solver's side of admission: waits for tokens (polling with back-off), renews the tokens it
 * holds, gives them back on failure and on close.
 */
export class AdmissionGate {
  private readonly held = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private cancelled = false;

  constructor(readonly admission: Admission, private readonly pollMs: { min: number; max: number } = { min: 20, max: 250 }) {
    this.timer = setInterval(() => { void this.admission.renew([...this.held]).catch(() => undefined); }, Math.max(100, Math.floor(admission.opts.ttlMs / 3)));
    this.timer.unref();
  }

  /** Wait until `groupId` is admitted; undefined when the gate was cancelled or closed first. */
  async enter(groupId: string): Promise<GateEntry | undefined> {
    const t0 = performance.now();
    let wait = this.pollMs.min;
    for (;;) {
      if (this.closed || this.cancelled) return undefined;
      const r = await this.admission.tryAcquire(groupId);
      if (r.admitted) {
        this.held.add(groupId);
        return { waitedMs: performance.now() - t0, publishedVersion: r.publishedVersion };
      }
      await new Promise((res) => setTimeout(res, wait));
      wait = Math.min(this.pollMs.max, wait * 2);
    }
  }

  /**
   * The group was handed on (enqueued for the judge, which releases the token when it appends or
   * drops it). Nobody renews it from here on; a queued job survives judge crashes, so the token
   * gets a long expiry (HANDOFF_TTL_FACTOR × the TTL) that only a group lost outright runs into.
   */
  async handedOn(groupId: string): Promise<void> {
    this.held.delete(groupId);
    await this.admission.renew([groupId], this.admission.opts.ttlMs * HANDOFF_TTL_FACTOR);
  }

  /** The group will not reach the judge: give the token back now. */
  async abandon(groupId: string): Promise<void> {
    this.held.delete(groupId);
    await this.admission.release([groupId]);
  }

  /** Make waiting and future enter() calls return undefined (the experiment is no longer served). */
  cancel(): void {
    this.cancelled = true;
  }

  /** Stop renewing and give back every token still held. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const ids = [...this.held];
    this.held.clear();
    await this.admission.release(ids).catch(() => undefined);
  }
}
