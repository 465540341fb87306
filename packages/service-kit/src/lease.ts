import { keys, LeaseLostError } from '@spar/core';
import type { Redis } from 'ioredis';

export { LeaseLostError };

/** A write refused because this process no longer holds the experiment's lease. */
export const leaseLost = (experimentId: string) =>
  new LeaseLostError(`experiment ${experimentId}: lease lost (another learner holds it); this process writes nothing more`);

// Claim: take a free lease with a fresh fencing token (INCR, so tokens are monotone per experiment).
const CLAIM_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local v = ARGV[1] .. '#' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return v`;
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
// Re-claim a lapsed lease under the same fencing token: only while nobody holds it and no claim has
// happened since (the fence counter still equals this claim's token). 1 = still held, 2 = held again.
const RECLAIM_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then if cur == ARGV[1] then return 1 else return 0 end end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
// Fenced writes: the lease check and the write in one script, so a paused learner whose lease a
// standby took cannot write after waking, however long the pause. -1 = not the holder.
const HSET_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('HSET', KEYS[2], unpack(ARGV, 2))`;
// Trim the stream to the checkpointed cursor and the judge's dedupe set to its time window.
const TRIM_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local t = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[3])))
if ARGV[2] == '' then return 0 end
return redis.call('XTRIM', KEYS[2], 'MINID', ARGV[2])`;

/**
 * One learner's hold on one experiment: the lease key holds `<holder>#<token>`, where the token
 * comes from a per-experiment counter incremented on every claim (a fencing token). Every write a
 * learner makes to shared state goes through this object (or `ExperimentStore.update` with it) and
 * is refused with LeaseLostError once another claim has happened — checked atomically with the
 * write in Redis, not at the top of a loop.
 */
export class ExperimentLease {
  private timer?: NodeJS.Timeout;
  private _lost = false;
  private _reclaims = 0;
  private onReclaim?: () => void;

  private constructor(private readonly redis: Redis, readonly experimentId: string, readonly value: string, private leaseMs: number) {}

  /** True once a renewal found the lease held by another claim (after it lapsed and was taken). */
  get lost(): boolean {
    return this._lost;
  }

  /** Times this claim took its lapsed lease back (renewals stalled, nobody else claimed). */
  get reclaims(): number {
    return this._reclaims;
  }

  /**
   * Renew every leaseMs/3 from now until `stopRenewing` (start at the claim: set-up can take longer
   * than the lease). A renewal that finds the lease lapsed re-claims it when no other claim has
   * happened since (`onReclaim` is told); only a lease another learner took counts as lost.
   */
  startRenewing(leaseMs: number, onReclaim?: () => void): void {
    this.stopRenewing();
    this.leaseMs = leaseMs;
    this.onReclaim = onReclaim;
    this.timer = setInterval(() => {
      this.renew(leaseMs)
        .then(async (ok) => ok || this.reclaim())
        .then((ok) => { if (!ok) this._lost = true; }, () => undefined);
    }, Math.max(250, Math.floor(leaseMs / 3)));
  }

  /**
   * Take the lease back after it lapsed (renewals stalled: a pause, Redis slow), under the same
   * fencing token, when nobody holds it and nobody claimed it since. True when held again.
   */
  async reclaim(): Promise<boolean> {
    const r = await this.redis.eval(RECLAIM_LUA, 2, this.key, keys.fence(this.experimentId), this.value, String(this.leaseMs), String(this.token));
    if (r === 2) {
      this._reclaims++;
      this.onReclaim?.();
    }
    return r === 1 || r === 2;
  }

  stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get key(): string {
    return keys.lease(this.experimentId);
  }

  /** The fencing token (monotone per experiment across claims). */
  get token(): number {
    return Number(this.value.slice(this.value.lastIndexOf('#') + 1));
  }

  static async claim(redis: Redis, experimentId: string, holder: string, leaseMs: number): Promise<ExperimentLease | undefined> {
    const v = await redis.eval(CLAIM_LUA, 2, keys.lease(experimentId), keys.fence(experimentId), holder, String(leaseMs)) as string | null;
    return v ? new ExperimentLease(redis, experimentId, v, leaseMs) : undefined;
  }

  async renew(leaseMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW_LUA, 1, this.key, this.value, String(leaseMs))) === 1;
  }

  async release(): Promise<void> {
    this.stopRenewing();
    await this.redis.eval(RELEASE_LUA, 1, this.key, this.value);
  }

  async held(): Promise<boolean> {
    return (await this.redis.get(this.key)) === this.value;
  }

  /**
   * Throw LeaseLostError unless this lease is held (for writes outside Redis, e.g. files); a lapsed
   * lease nobody else claimed is taken back first.
   */
  async assertHeld(): Promise<void> {
    // reclaim() answers "held" for a lease still ours, and takes back a lapsed one nobody claimed.
    if (!(await this.reclaim())) throw leaseLost(this.experimentId);
  }

  /** Run a fenced script (-1 = not the holder); a lapsed lease nobody else claimed is taken back and the script run again. */
  private async fenced(run: () => Promise<unknown>): Promise<void> {
    if ((await run()) !== -1) return;
    if (!(await this.reclaim()) || (await run()) === -1) throw leaseLost(this.experimentId);
  }

  /** HSET `key` only while the lease is held. */
  async hset(key: string, fields: Record<string, string | number>): Promise<void> {
    const args = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    if (args.length === 0) return;
    await this.fenced(() => this.redis.eval(HSET_LUA, 2, this.key, key, this.value, ...args));
  }

  /**
   * Only while the lease is held: drop experience stream entries at or below `upTo` (folded into a
   * committed checkpoint), and the judge's record of groups appended more than `dedupeWindowMs` ago
   * (a group re-delivered later than that is no longer recognised by the judge; the learner's
   * ledger and the staleness bound still stand between it and a train step).
   */
  async trimExperience(upTo: string, dedupeWindowMs: number): Promise<void> {
    const [ms, seq] = upTo.split('-').map(Number) as [number, number];
    const minId = upTo === '0-0' ? '' : `${ms}-${seq + 1}`;
    const e = this.experimentId;
    await this.fenced(() => this.redis.eval(TRIM_LUA, 3, this.key, keys.experience(e), keys.appended(e), this.value, minId, String(dedupeWindowMs)));
  }
}
