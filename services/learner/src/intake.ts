import { idHash64, keys, type Trajectory } from '@spar/core';
import { readExperience, type ExperimentLease, type Logger, type Metrics, type Redis } from '@spar/service-kit';
import { wellFormed } from './batch.ts';
import { Ledger } from './ledger.ts';

/** Counters the learner owns; checkpointed, and mirrored to Redis as absolute values. */
export interface LearnerCounters {
  ingested: number;
  droppedStale: number;
  droppedDuplicate: number;
  droppedInvalid: number;
  /** Trajectories of a policy held fixed in the current phase (config.rounds). */
  droppedFrozen: number;
  skippedSteps: number;
}

export const NO_COUNTS: LearnerCounters = { ingested: 0, droppedStale: 0, droppedDuplicate: 0, droppedInvalid: 0, droppedFrozen: 0, skippedSteps: 0 };

/** Where reading the experience stream stands (restored from, and saved into, a checkpoint). */
export interface IntakeState {
  /** The last stream entry folded into a step. */
  readonly cursor: string;
  /** Trajectories appended to the stream through `cursor` (what admission counts as consumed). */
  readonly consumed: number;
  readonly counters: LearnerCounters;
  readonly ledger: Ledger;
}

/** One batch of usable trajectories (whole groups) and what reading it found. */
export interface Batch {
  readonly trajectories: Trajectory[];
  /** Judge stats of the entries read. */
  readonly stats: Record<string, number>[];
  /** Policy-version lag of every well-formed trajectory read. */
  readonly lags: number[];
  readonly dropped: { stale: number; duplicate: number; invalid: number; frozen: number };
  /** Hashes of every trajectory id read (the ledger takes them when the step commits). */
  readonly seen: bigint[];
  readonly cursor: string;
  readonly consumed: number;
}

export interface IntakeOptions {
  readonly redis: Redis;
  readonly lease: ExperimentLease;
  readonly experimentId: string;
  readonly batchSize: number;
  readonly maxStaleness: number;
  readonly vocabSize: number;
  readonly context: number;
  readonly pollMs: number;
  readonly stallMs: number;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * The learner's reading of the experience stream: whole batches of usable trajectories, with
 * duplicates (ledger), malformed and stale ones dropped and counted. Nothing is consumed until the
 * step that used a batch commits it (`take`); a partial batch is re-read next time.
 */
export class Intake {
  cursor: string;
  consumed: number;
  readonly counters: LearnerCounters;
  readonly ledger: Ledger;
  /** learner_consumed_trajectories as last written. */
  private advertised = 0;
  private lastBatchAt = Date.now();
  private stallWarned = false;

  constructor(private readonly o: IntakeOptions, state: IntakeState) {
    this.cursor = state.cursor;
    this.consumed = state.consumed;
    this.counters = { ...state.counters };
    this.ledger = state.ledger;
  }

  /** Milliseconds since the last whole batch. */
  get sinceLastBatchMs(): number {
    return Date.now() - this.lastBatchAt;
  }

  /**
   * Read until a whole batch is in hand, or until `keepWaiting` says to stop while the stream has
   * nothing new (stop requested, budget out, shutting down): then undefined. `trains` (config.rounds):
   * whether a trajectory's policy trains in this phase; the others are dropped as `frozen`.
   */
  async gather(versionOf: (t: Trajectory) => number, keepWaiting: () => Promise<boolean>, trains?: (t: Trajectory) => boolean): Promise<Batch | undefined> {
    const b = { trajectories: [] as Trajectory[], stats: [] as Record<string, number>[], lags: [] as number[], dropped: { stale: 0, duplicate: 0, invalid: 0, frozen: 0 }, seen: [] as bigint[], cursor: this.cursor, consumed: this.consumed };
    const seenSet = new Set<bigint>();
    while (b.trajectories.length < this.o.batchSize) {
      const items = await readExperience(this.o.redis, this.o.experimentId, b.cursor, 16, Math.min(this.o.pollMs, 1000));
      if (items.length === 0) {
        await this.whileWaiting(b.consumed - b.trajectories.length);
        if (this.o.lease.lost || !(await keepWaiting())) return undefined;
        continue;
      }
      for (const { id, entry, cumulative } of items) {
        b.cursor = id;
        if (cumulative !== undefined) b.consumed = cumulative;
        if (entry.stats && typeof entry.stats === 'object') b.stats.push(entry.stats as Record<string, number>);
        for (const t of entry.trajectories ?? []) this.sort(t, versionOf, trains, b, seenSet);
        if (b.trajectories.length >= this.o.batchSize) break;
      }
    }
    this.lastBatchAt = Date.now();
    this.stallWarned = false;
    return b;
  }

  /** One trajectory into the batch, or counted as dropped. */
  private sort(
    t: Trajectory, versionOf: (t: Trajectory) => number, trains: ((t: Trajectory) => boolean) | undefined,
    b: { trajectories: Trajectory[]; lags: number[]; dropped: Batch['dropped']; seen: bigint[] }, seenSet: Set<bigint>,
  ): void {
    const h = idHash64(String(t?.trajectoryId));
    if (this.ledger.has(h) || seenSet.has(h)) { b.dropped.duplicate++; return; }
    b.seen.push(h);
    seenSet.add(h);
    if (!wellFormed(t, this.o.vocabSize, this.o.context)) { b.dropped.invalid++; return; }
    if (trains && !trains(t)) { b.dropped.frozen++; return; }
    // Staleness against the version of the policy that trains on it (named policies: its owner's).
    const lag = versionOf(t) - t.sample.policyVersion;
    b.lags.push(lag);
    if (lag > this.o.maxStaleness) { b.dropped.stale++; return; }
    b.trajectories.push(t);
  }

  /**
   * Waiting on the stream: trajectories read and dropped (stale, duplicate, invalid) are resolved,
   * so they no longer count against the admission budget; only the usable ones in the incomplete
   * batch still do. Without this, a backlog of stale entries could hold the whole budget while the
   * learner waits for more. Warns once per stall.
   */
  private async whileWaiting(resolved: number): Promise<void> {
    if (resolved > this.advertised) {
      this.advertised = resolved;
      await this.o.lease.hset(keys.counters(this.o.experimentId), { learner_consumed_trajectories: resolved });
    }
    if (!this.stallWarned && this.sinceLastBatchMs > this.o.stallMs) {
      this.stallWarned = true;
      this.o.log.warn({ waitingS: Math.round(this.sinceLastBatchMs / 1000) }, 'no batch for SPAR_STALL_MS: are solvers and judges serving this experiment?');
    }
  }

  /** The batch went into a step (trained or skipped): its reads are consumed and counted. */
  take(b: Batch): void {
    for (const h of b.seen) this.ledger.add(h);
    for (const lag of b.lags) this.o.metrics.histogram('spar_policy_staleness').observe(lag);
    this.counters.droppedStale += b.dropped.stale;
    this.counters.droppedDuplicate += b.dropped.duplicate;
    this.counters.droppedInvalid += b.dropped.invalid;
    this.counters.droppedFrozen += b.dropped.frozen;
    for (const [reason, n] of Object.entries(b.dropped)) if (n) this.o.metrics.counter('spar_trajectories_dropped_total').inc({ experiment: this.o.experimentId, reason }, n);
    this.cursor = b.cursor;
    this.consumed = b.consumed;
    this.counters.ingested += b.trajectories.length;
    this.o.metrics.counter('spar_trajectories_ingested_total').inc({ experiment: this.o.experimentId }, b.trajectories.length);
  }

  /** The counters and the stream position, to Redis (fenced). */
  mirror(): Promise<void> {
    const c = this.counters;
    this.advertised = Math.max(this.advertised, this.consumed);
    return this.o.lease.hset(keys.counters(this.o.experimentId), {
      ingested_trajectories: c.ingested, dropped_stale: c.droppedStale, dropped_duplicate: c.droppedDuplicate,
      dropped_invalid: c.droppedInvalid, dropped_frozen: c.droppedFrozen, skipped_steps: c.skippedSteps, learner_cursor: this.cursor,
      learner_consumed_trajectories: this.advertised,
    });
  }
}
