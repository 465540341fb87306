import { keys } from '@spar/core';
import { applyWeights, Policy, type ModelConfigInput } from '@spar/policy';
import type { FollowedPolicyDeps } from './followed-policy.ts';
import { sparClient, sparProto } from './grpc.ts';
import { fetchWeights } from './policy-sync.ts';
import type { PolicyServiceClient } from '../../../proto/generated/spar/v1/PolicyService.ts';

/** How long a snapshot fetch may wait for the learner (connect and transfer) before the group plays itself. */
const FETCH_DEADLINE_MS = 30000;

/** A snapshot the learner serves for the pool (its record in `spar:{exp}:policy`, field `pool`). */
export interface PoolSnapshot {
  readonly version: number;
  readonly step: number;
  readonly sha256: string;
}

export interface OpponentPoolOptions {
  /** Share of groups played against a snapshot (league.opponents.share). */
  readonly share: number;
  readonly sampling: 'uniform' | 'prioritized';
  /**
   * Snapshot engines kept loaded at once (the least recently used idle one is closed beyond it);
   * default 4. The solver keeps one per snapshot the pool holds.
   */
  readonly maxEngines?: number;
  /** How long a read of the pool and its results is reused (ms). */
  readonly refreshMs?: number;
}

/** A loaned opponent: play with `policy`, then `release()`. */
export interface Loan {
  readonly policy: Policy;
  readonly version: number;
  release(): void;
}

interface Engine {
  readonly version: number;
  readonly ready: Promise<Policy>;
  users: number;
  usedAt: number;
}

/**
 * The solver's side of config.league.opponents: picks the opponent of each group — self-play
 * with probability 1 − share, else a snapshot of the pool, uniformly or prioritized by the
 * learning side's results against it (weight (1 − score)², AlphaStar's PFSP: the snapshots it
 * still loses to are played most) — and loads snapshots on demand over GetPolicy, accepted only
 * with the sha256 the learner recorded for them.
 */
export class OpponentPool {
  private readonly engines = new Map<number, Engine>();
  private cache?: { at: number; pool: PoolSnapshot[]; address?: string; scores: Map<number, number> };
  private client?: { address: string; client: PolicyServiceClient };
  private closed = false;

  constructor(
    private readonly experimentId: string, private readonly model: ModelConfigInput,
    private readonly d: FollowedPolicyDeps, private readonly o: OpponentPoolOptions,
  ) {}

  /** The opponent of the next group; undefined: self-play (by the share, an empty pool, or a snapshot that cannot be fetched now). */
  async pick(rng: () => number): Promise<Loan | undefined> {
    if (this.closed || this.o.share <= 0 || rng() >= this.o.share) return undefined;
    const view = await this.read();
    const chosen = sample(view.pool, view.scores, this.o.sampling, rng);
    if (!chosen || !view.address) return undefined;
    try {
      return await this.loan(chosen, view.address);
    } catch (err) {
      this.d.logger.warn({ experimentId: this.experimentId, version: chosen.version, err: (err as Error).message }, 'opponent snapshot unavailable; this group plays itself');
      return undefined;
    }
  }

  private async read(): Promise<NonNullable<OpponentPool['cache']>> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < (this.o.refreshMs ?? 2000)) return this.cache;
    const [rec, results] = await Promise.all([this.d.redis.hmget(keys.policy(this.experimentId), 'pool', 'address'), this.d.redis.hgetall(keys.poolResults(this.experimentId))]);
    const pool = parsePool(rec[0]);
    const scores = new Map<number, number>();
    for (const s of pool) {
      const games = Number(results[`${s.version}:games`] ?? 0);
      if (games > 0) scores.set(s.version, Number(results[`${s.version}:score`] ?? 0) / games);
    }
    this.cache = { at: now, pool, address: rec[1] ?? undefined, scores };
    return this.cache;
  }

  private async loan(s: PoolSnapshot, address: string): Promise<Loan> {
    let e = this.engines.get(s.version);
    if (!e) {
      e = { version: s.version, ready: this.load(s, address), users: 0, usedAt: 0 };
      this.engines.set(s.version, e);
      e.ready.catch(() => this.engines.delete(s.version));
    }
    e.users++;
    e.usedAt = Date.now();
    let policy: Policy;
    try {
      policy = await e.ready;
    } catch (err) {
      e.users--;
      throw err;
    }
    await this.evict();
    let released = false;
    const engine = e;
    return { policy, version: s.version, release: () => { if (!released) { released = true; engine.users--; } } };
  }

  private async load(s: PoolSnapshot, address: string): Promise<Policy> {
    if (this.client?.address !== address) {
      this.client?.client.close();
      this.client = { address, client: sparClient(sparProto().PolicyService, address, this.d.grpcToken, this.d.grpcTls) };
    }
    // A learner restarting (kill -9, a new pod) is back within seconds: the group waits for it, up
    // to the deadline, rather than falling back to self-play while the channel reconnects.
    const w = await fetchWeights(this.client.client, this.experimentId, s.version, FETCH_DEADLINE_MS, s.sha256, { waitForReady: true });
    const policy = await Policy.create(this.model, { worker: true, threads: this.d.threads, spinning: false });
    try {
      await applyWeights(policy, w);
    } catch (err) {
      await policy.close();
      throw err;
    }
    return policy;
  }

  /** Close the least recently used idle engines beyond the limit. */
  private async evict(): Promise<void> {
    const max = this.o.maxEngines ?? 4;
    const idle = [...this.engines.values()].filter((e) => e.users === 0).sort((a, b) => a.usedAt - b.usedAt);
    while (this.engines.size > max && idle.length) {
      const e = idle.shift()!;
      this.engines.delete(e.version);
      await (await e.ready).close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.engines.values()];
    this.engines.clear();
    for (const e of all) await e.ready.then((p) => p.close(), () => undefined);
    this.client?.client.close();
  }
}

/** The pool field of the learner's record: a JSON list of snapshots (malformed entries left out). */
export function parsePool(raw: string | null | undefined): PoolSnapshot[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is PoolSnapshot => Number.isInteger(x?.version) && Number.isInteger(x?.step) && typeof x?.sha256 === 'string');
  } catch {
    return [];
  }
}

/**
 * One snapshot of `pool`: uniformly, or with weight (1 − score)² where score is the learning
 * side's score against it (0.5 before any game); uniform again when every weight is 0.
 */
export function sample(pool: readonly PoolSnapshot[], scores: ReadonlyMap<number, number>, sampling: 'uniform' | 'prioritized', rng: () => number): PoolSnapshot | undefined {
  if (pool.length === 0) return undefined;
  const weights = pool.map((s) => (sampling === 'uniform' ? 1 : (1 - Math.min(1, Math.max(0, scores.get(s.version) ?? 0.5))) ** 2));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return pool[Math.floor(rng() * pool.length)];
  let u = rng() * total;
  for (const [i, w] of weights.entries()) {
    u -= w;
    if (u < 0) return pool[i];
  }
  return pool.at(-1);
}
