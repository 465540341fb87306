import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { keys } from '@spar/core';
import { CheckpointError, checkpointDir, discardCheckpointsAbove, listCheckpoints, pruneCheckpoints, type CheckpointRef } from '@spar/policy';
import type { ExperimentLease, Logger, Redis } from '@spar/service-kit';

/**
 * The checkpoint commit protocol, one for self-play and for the warm-start stage:
 *   1. write the files under a name no other claim uses: `step-N-f<token>`, this claim's fencing token;
 *   2. make them current with one fenced write in Redis (counters `<field>_step` and `<field>_dir`).
 * A learner paused anywhere in between, whose lease another learner took meanwhile, writes only
 * its own folder and is refused at 2: it can neither become the committed checkpoint nor
 * overwrite it. Its folder is discarded at the next resume, which loads exactly the folder the
 * commit names.
 */
export class CheckpointCommits {
  constructor(
    private readonly redis: Redis, private readonly lease: ExperimentLease,
    /** The folder holding the step folders. */
    readonly root: string,
    /** Counter-field prefix: `checkpoint` (self-play) or `warmstart_checkpoint`. */
    private readonly field: string,
    /** Committed checkpoints to keep (older ones are pruned after each commit). */
    private readonly keep: number,
  ) {}

  private get counters(): string {
    return keys.counters(this.lease.experimentId);
  }

  /** The step of the committed checkpoint, if any. */
  async committedStep(): Promise<number | undefined> {
    const v = await this.redis.hget(this.counters, `${this.field}_step`);
    return v === null ? undefined : Number(v);
  }

  /**
   * Save (through `save`, into the folder it is given) and commit the checkpoint of `step`.
   * Throws LeaseLostError, with nothing committed, once another claim holds the experiment.
   */
  async commit(step: number, save: (dir: string) => Promise<void>): Promise<string> {
    await this.lease.assertHeld();
    const dir = checkpointDir(this.root, step, this.lease.token);
    // Only this claim ever writes this name: an earlier save of ours that was never committed.
    await rm(dir, { recursive: true, force: true });
    await save(dir);
    await this.lease.hset(this.counters, { [`${this.field}_step`]: step, [`${this.field}_dir`]: basename(dir) });
    await pruneCheckpoints(this.root, this.keep);
    return dir;
  }

  /**
   * The committed checkpoint to resume from (undefined: none committed), after discarding every
   * folder the commit does not cover: steps above it, and other claims' folders of its step.
   * A commit naming a folder that is not there is an error, not a silent fresh start.
   */
  async resume(log?: Logger): Promise<CheckpointRef | undefined> {
    const [stepText, name] = await this.redis.hmget(this.counters, `${this.field}_step`, `${this.field}_dir`);
    if (stepText === null) return undefined;
    const step = Number(stepText);
    const orphans = await discardCheckpointsAbove(this.root, step, name ?? undefined);
    if (orphans.length) log?.warn({ folders: orphans.map((o) => basename(o.dir)), committed: name ?? step }, 'discarded uncommitted checkpoints');
    const all = await listCheckpoints(this.root);
    // A commit from before folder names were recorded names only its step: the newest folder of it.
    const ref = name !== null ? all.find((r) => basename(r.dir) === name) : all.filter((r) => r.step === step).at(-1);
    if (!ref) throw new CheckpointError(`${this.root}: the committed checkpoint ${name ?? `of step ${step}`} is missing`);
    return ref;
  }
}
