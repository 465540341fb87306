import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { keys, phaseAt, policyNames, type ExperimentRecord, type Phase, type Trajectory } from '@spar/core';
import { CheckpointError, loadPolicy, Policy, type CheckpointTensor, type PolicyOptions, type StepMetrics } from '@spar/policy';
import { policyHandle, type EvalReport, type RecipeRegistry } from '@spar/recipes';
import {
  loadExperimentContext, ExperimentStore, type ExperimentContext, type ExperimentLease, type IdleTracker, type Logger, type Metrics,
  type PolicyPublisher, type Redis,
} from '@spar/service-kit';
import { CheckpointCommits } from './checkpoint-commit.ts';
import { exportPolicy } from './export-policy.ts';
import { readCurriculum, StatMeans } from './curriculum.ts';
import { Intake, NO_COUNTS, type Batch, type IntakeState, type LearnerCounters } from './intake.ts';
import { heldOutEval } from './held-out-eval.ts';
import { League, type LeagueMeta } from './league.ts';
import { Ledger } from './ledger.ts';
import { loadMembers, PolicySet, type LoadedMember, type Member } from './policy-set.ts';
import { runWarmStart } from './warm-start.ts';
import type { LearnerConfig } from './config.ts';

/**
 * The record's evaluation history: the newest 200 entries, but the warm-start stage's entries
 * (up to 20) always stay, so the stage remains on the curves of a long run.
 */
export function keepHistory<E extends { stage?: string }>(all: readonly E[]): E[] {
  const warm = all.filter((e) => e.stage === 'warmstart').slice(-20);
  return [...warm, ...all.filter((e) => e.stage !== 'warmstart').slice(-(200 - warm.length))];
}

export interface RunDeps {
  readonly cfg: LearnerConfig;
  readonly redis: Redis;
  /** The fenced lease of this claim: every write to shared state goes through it. */
  readonly lease: ExperimentLease;
  readonly recipes: RecipeRegistry;
  readonly publisher: PolicyPublisher;
  readonly advertise: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly idle: IdleTracker;
  /** True once the process is shutting down (finish the step, checkpoint, release). */
  readonly stopping: () => boolean;
}

export type RunEnd = 'completed' | 'stopped' | 'released' | 'lease-lost' | 'stalled';

/** What a self-play checkpoint's metadata carries besides the weights. */
interface CheckpointMeta {
  experimentId: string;
  cursor?: string;
  consumed?: number;
  counters?: LearnerCounters;
  fence?: number;
  league?: LeagueMeta;
}

/** The weights and the stream position a run starts from: a committed checkpoint's, or fresh. */
interface Restored {
  /** The unnamed policy, or with named policies the solver's (a checkpoint's root). */
  readonly policy: Policy;
  /** Named policies besides the solver's, from the checkpoint (undefined when fresh or unnamed). */
  readonly members?: Map<string, LoadedMember>;
  /** The committed checkpoint's step (0 when fresh). */
  readonly step: number;
  readonly intake: IntakeState;
  /** The checkpoint's extra tensors (estimator state, KL reference); undefined when fresh. */
  readonly tensors?: Readonly<Record<string, CheckpointTensor>>;
  readonly league?: LeagueMeta;
}

/**
 * Train one experiment until its budget is spent, it is stopped, or this process shuts down.
 * Resumes from the latest committed checkpoint: weights, moments, estimator state, stream cursor,
 * ledger. Every write to shared state is fenced by the lease: once another learner has claimed
 * the experiment, the next write throws LeaseLostError and nothing more is written.
 */
export async function runExperiment(rec: ExperimentRecord, d: RunDeps): Promise<RunEnd> {
  const run = await ExperimentRun.open(rec, d);
  if (!run) return 'released';
  try {
    return await run.train();
  } finally {
    await run.close();
  }
}

/**
 * One claim's training run of one experiment: restore (checkpoint or fresh, then the warm start),
 * then steps — gather a batch, train, publish, record, evaluate, checkpoint — and the finish.
 */
class ExperimentRun {
  private readonly store: ExperimentStore;
  private readonly log: Logger;
  /** Judge stats of the groups trained since the last evaluation (a window, not state). */
  private readonly window = new StatMeans();
  private readonly startedAt: number;
  private readonly runStart = performance.now();
  private waitMs = 0;
  /** Optimizer steps taken (self-play), as of the last step. */
  private steps: number;

  private constructor(
    private readonly d: RunDeps, private readonly ctx: ExperimentContext, private readonly root: string,
    private readonly commits: CheckpointCommits, private readonly set: PolicySet, private readonly intake: Intake,
    start: { at: number; step: number }, private readonly league: League | undefined,
  ) {
    this.store = new ExperimentStore(d.redis);
    this.log = d.logger.child({ experimentId: ctx.id });
    this.startedAt = start.at;
    this.steps = start.step;
  }

  /** Restore or initialise, run the warm start if due; undefined when the warm start was released. */
  static async open(rec: ExperimentRecord, d: RunDeps): Promise<ExperimentRun | undefined> {
    const ctx = await loadExperimentContext(rec, d.recipes);
    const log = d.logger.child({ experimentId: ctx.id });
    const root = join(d.cfg.SPAR_DATA_DIR, ctx.id);
    const ckRoot = join(root, 'checkpoints');
    await mkdir(ckRoot, { recursive: true });
    const runtime = { worker: true, ep: d.cfg.SPAR_EP, threads: d.cfg.SPAR_THREADS || undefined, spinning: d.cfg.SPAR_SPIN } as const;
    // A checkpoint counts once its commit (a fenced write) names it; resume() drops every other folder.
    const commits = new CheckpointCommits(d.redis, d.lease, ckRoot, 'checkpoint', ctx.config.learner.keepCheckpoints);
    const restored = await restore(commits, ctx, runtime, d, log);
    const store = new ExperimentStore(d.redis);
    let set: PolicySet | undefined;
    let league: League | undefined;
    let step = restored.step;
    try {
      if (ctx.config.warmStart && !restored.tensors) {
        const evaluate = (s: number) => evaluateInto(ctx, restored.policy, store, d, new StatMeans(), log, s, 'warmstart');
        const end = await runWarmStart({ ctx, policy: restored.policy, redis: d.redis, lease: d.lease, store, log, metrics: d.metrics, dataDir: d.cfg.SPAR_DATA_DIR, root, evaluate, stopping: d.stopping });
        if (end === 'released') { await restored.policy.close(); return undefined; }
      }
      set = await policySet(ctx, restored, runtime);
      await set.continueAbovePublished(d.redis, ctx.id, log);
      // The one unnamed policy's optimizer step is the experiment's step; named policies step
      // separately (a frozen one never), so the experiment counts its own, in the checkpoint's name.
      if (!ctx.config.policies) step = (await restored.policy.state(false)).step;
      await alignRecordedStep(step, ctx, store, d, log);
      if (ctx.config.league) league = await League.open(ctx, { lease: d.lease, store, publisher: d.publisher, metrics: d.metrics, log, runtime }, root, restored.league);
    } catch (err) {
      if (set) await set.close();
      else {
        await restored.policy.close();
        for (const m of restored.members?.values() ?? []) await m.policy.close();
      }
      throw err;
    }
    const intake = new Intake({
      redis: d.redis, lease: d.lease, experimentId: ctx.id, batchSize: ctx.config.learner.batchSize, maxStaleness: ctx.config.learner.maxStaleness,
      vocabSize: ctx.text?.size ?? ctx.vocab.size, context: ctx.model.context ?? 64, pollMs: d.cfg.SPAR_POLL_MS, stallMs: d.cfg.SPAR_STALL_MS, metrics: d.metrics, log,
    }, restored.intake);
    // budget.maxMinutes is self-play time: the warm start (its own steps/minutes) does not count.
    const warmSeconds = (await store.get(ctx.id)).warmStart?.seconds ?? 0;
    const start = Date.parse(rec.startedAt ?? new Date().toISOString()) + warmSeconds * 1000;
    return new ExperimentRun(d, ctx, root, commits, set, intake, { at: start, step }, league);
  }

  private get outOfTime(): boolean {
    return Date.now() - this.startedAt > this.ctx.config.budget.maxMinutes * 60000;
  }

  /** Steps until the run ends, then its finish. */
  async train(): Promise<RunEnd> {
    await this.publish();
    await this.league?.announce();
    await this.intake.mirror();
    // After this line the record holds this learner's step (a resume has aligned it) and version.
    this.log.info({ step: this.steps }, 'training from step');
    let end: RunEnd | undefined;
    while (!(end = await this.ended())) {
      this.d.idle.idle();
      const waitStart = performance.now();
      const batch = await this.intake.gather((t) => this.set.versionOf(t), () => this.keepWaiting(), this.trains());
      this.d.idle.busy();
      this.waitMs += performance.now() - waitStart;
      if (batch) await this.step(batch);
    }
    await this.finish(end);
    return end;
  }

  /** With config.rounds: the phase the next step trains in. */
  private get phase(): Phase | undefined {
    const rounds = this.ctx.config.rounds;
    return rounds ? phaseAt(rounds, this.steps) : undefined;
  }

  /** With config.rounds: whether a trajectory's policy trains in this phase (the others are held fixed). */
  private trains(): ((t: Trajectory) => boolean) | undefined {
    const phase = this.phase;
    return phase ? (t) => this.set.ownerOf(t).name === phase.train : undefined;
  }

  /** Why the run ends now, if it does. */
  private async ended(): Promise<RunEnd | undefined> {
    if (this.d.lease.lost) return 'lease-lost';
    const now = await this.store.get(this.ctx.id);
    if (now.state !== 'running') return 'released';
    if (now.stopRequested) return 'stopped';
    if (this.steps >= this.ctx.config.budget.maxSteps) return 'completed';
    // Out of time: a run that was still training completed; one that has had no batch for
    // SPAR_STALL_MS did not — it ends failed rather than report an idle wait as success.
    if (this.outOfTime) return this.intake.sinceLastBatchMs > this.d.cfg.SPAR_STALL_MS ? 'stalled' : 'completed';
    if (this.d.stopping()) return 'released';
    return undefined;
  }

  /** While the stream is empty: keep waiting unless stopped, out of time or shutting down. */
  private async keepWaiting(): Promise<boolean> {
    if (this.d.stopping() || this.outOfTime) return false;
    const r = await this.store.get(this.ctx.id);
    return !r.stopRequested && r.state === 'running';
  }

  /** One learner step on a batch, and everything that follows it. */
  private async step(batch: Batch): Promise<void> {
    const t0 = performance.now();
    const batchStats = new StatMeans();
    for (const s of batch.stats) {
      this.window.add(s);
      batchStats.add(s);
    }
    const r = await this.set.step(batch.trajectories, this.ctx.config.learner.referenceRefreshEvery);
    this.intake.take(batch);
    const id = this.ctx.id;
    for (const { member, result } of r.results) {
      const labels = { experiment: id, ...(member.name ? { policy: member.name } : {}) };
      for (const a of result.advantages) this.d.metrics.histogram('spar_advantage').observe(labels, a);
      // Curriculum health of this batch: does the proposer get a gradient at all?
      if (result.proposerSignal !== undefined) {
        this.window.add({ proposerNonZeroAdvantage: result.proposerSignal });
        batchStats.add({ proposerNonZeroAdvantage: result.proposerSignal });
      }
      this.d.metrics.counter('spar_zero_variance_groups_total').inc({ experiment: id }, result.zeroVarianceGroups);
    }
    for (const [stat, v] of Object.entries(batchStats.take() ?? {})) this.d.metrics.gauge('spar_curriculum').set({ experiment: id, stat }, v);
    if (!r.trained) {
      this.intake.counters.skippedSteps++;
      this.d.metrics.counter('spar_learner_steps_total').inc({ experiment: id, result: 'skipped' });
      await this.intake.mirror();
      return;
    }
    const trained = r.results.filter((x) => x.result.metrics && !x.result.metrics.skipped);
    for (const { member, result } of r.results) if (result.metrics) this.set.observe(this.d.metrics, id, member, result.metrics);
    this.d.metrics.histogram('spar_learner_step_seconds').observe((performance.now() - t0) / 1000);
    // The record's metrics: the solver's step when it trained, else the first policy that did.
    const shown = (trained.find((x) => x.member === this.set.solver) ?? trained[0]!).result.metrics!;
    this.steps = this.ctx.config.policies ? this.steps + 1 : shown.step;
    const step = this.steps;
    const changed = trained.map((x) => x.member);
    // A round ends: the copies (R-Zero's frozen solver) take the weights the round left.
    const phase = this.phase;
    if (phase?.roundStart) {
      changed.push(...(await this.set.takeCopies()));
      this.log.info({ step, round: phase.round, policies: this.set.view(phase.train) }, 'round begins');
    }
    await this.publish(changed);
    await this.intake.mirror();
    await this.record(step, shown, batch);
    const { every } = this.ctx.config.eval;
    if (every > 0 && step % every === 0 && step < this.ctx.config.budget.maxSteps) await this.evaluate(step);
    if (this.league && step % this.ctx.config.league!.snapshotEvery === 0) await this.league.snapshot(this.set.solver.policy, step);
    if (step % this.ctx.config.learner.checkpointEvery === 0) await this.checkpoint();
  }

  /** The record's step, version and latest learner metrics (fenced). */
  private async record(step: number, m: StepMetrics, batch: Batch): Promise<void> {
    const meanReward = batch.trajectories.reduce((s, t) => s + t.reward, 0) / batch.trajectories.length;
    const c = this.intake.counters;
    const phase = this.phase;
    const policies = this.set.view(phase?.train);
    await this.store.update(this.ctx.id, (r) => ({
      ...r, step, policyVersion: this.set.solver.policy.version, ...(policies ? { policies } : {}), ...(phase ? { round: { round: phase.round, phase: phase.index } } : {}),
      metrics: {
        loss: m.loss, kl: m.kl, entropy: m.entropy, clipFrac: m.clipFrac, gradNorm: m.gradNorm, meanReward, ingested: c.ingested,
        droppedStale: c.droppedStale, learnerBusy: 1 - this.waitMs / Math.max(1, performance.now() - this.runStart),
      },
    }), this.d.lease);
  }

  /** Publish the policies `changed` by a step (and any not yet published in this run). */
  private publish(changed: readonly Member[] = []): Promise<void> {
    return this.set.publish(this.ctx.id, this.d.lease, this.d.publisher, this.d.advertise, this.d.metrics, changed);
  }

  private evaluate(step: number): Promise<EvalReport> {
    return evaluateInto(this.ctx, this.set.solver.policy, this.store, this.d, this.window, this.log, step);
  }

  /** Save and commit a checkpoint of the current step; only then may the stream below its cursor go. */
  private async checkpoint(): Promise<void> {
    const step = this.steps;
    // A committed checkpoint of this step exists (resumed here, or only skipped steps since): keep
    // the stream untrimmed so the batches folded since are re-read after a restart rather than lost.
    if ((await this.commits.committedStep()) === step) return;
    const { cursor, consumed, counters, ledger } = this.intake;
    const snapshot = ledger.snapshot();
    await this.commits.commit(step, async (dir) => {
      const league = this.league ? { league: this.league.state() } : {};
      const metadata: CheckpointMeta = { experimentId: this.ctx.id, cursor, consumed, counters, fence: this.d.lease.token, ...league };
      await this.set.save(dir, { ...metadata }, { ledger: { dtype: 'int64', shape: [snapshot.length], data: snapshot } });
    });
    ledger.rotate();
    await this.d.lease.trimExperience(cursor, this.d.cfg.SPAR_DEDUPE_WINDOW_MS);
    this.d.metrics.counter('spar_checkpoints_total').inc({ experiment: this.ctx.id });
  }

  /** Completed, stopped or stalled: final evaluation, checkpoint, export, terminal record. Released: a checkpoint. */
  private async finish(end: RunEnd): Promise<void> {
    if (end === 'released') {
      await this.checkpoint();
      await this.intake.mirror();
      return;
    }
    if (end === 'lease-lost') return;
    const step = this.steps;
    const report = await this.evaluate(step);
    await this.checkpoint();
    const exp = await exportPolicy(this.set.solver.policy, join(this.root, 'export'), this.ctx);
    const best = await this.league?.exportBest(join(this.root, 'export-best'));
    const others = await this.set.exportOthers(this.root, this.ctx);
    const policies = this.set.view(this.phase?.train);
    await this.intake.mirror();
    const stalled = end === 'stalled'
      ? { reason: `stalled: no batch for ${Math.round(this.intake.sinceLastBatchMs / 1000)} s when the time budget ran out, at step ${step} of ${this.ctx.config.budget.maxSteps} (were solvers and judges serving it?)` }
      : {};
    await this.store.transition(this.ctx.id, end === 'stalled' ? 'failed' : end, {
      eval: report, step, policyVersion: this.set.solver.policy.version, artifacts: { onnx: exp.model, sha256: exp.sha256, checkpoints: this.commits.root, ...best, ...others }, ...stalled,
      ...(policies ? { policies } : {}),
    }, this.d.lease);
    this.log.info({ end, step, eval: report }, 'experiment finished');
  }

  async close(): Promise<void> {
    this.d.publisher.release(this.ctx.id);
    await this.league?.close();
    await this.set.close();
  }
}

/** The committed checkpoint's weights and stream position (its fencing token checked), or a fresh policy. */
async function restore(commits: CheckpointCommits, ctx: ExperimentContext, runtime: PolicyOptions, d: RunDeps, log: Logger): Promise<Restored> {
  const latest = await commits.resume(log);
  if (!latest) return { policy: await Policy.create(ctx.model, runtime), step: 0, intake: { cursor: '0-0', consumed: 0, counters: NO_COUNTS, ledger: new Ledger() } };
  const loaded = await loadPolicy(latest.dir, runtime);
  const m = loaded.metadata as unknown as CheckpointMeta;
  if (latest.fence !== undefined && m.fence !== latest.fence) {
    await loaded.policy.close();
    throw new CheckpointError(`${latest.dir}: written under fencing token ${m.fence}, its name says ${latest.fence}`);
  }
  let members: Restored['members'];
  try {
    if (ctx.config.policies) members = await loadMembers(latest.dir, ctx.config, runtime);
  } catch (err) {
    await loaded.policy.close();
    throw err;
  }
  // A checkpoint from before the count existed: count everything appended as consumed (admission
  // is briefly lenient; the next committed step sets the exact figure).
  const consumed = m.consumed ?? Number((await d.redis.hget(keys.counters(ctx.id), 'appended_trajectories')) ?? 0);
  const l = loaded.extraTensors.ledger;
  const intake: IntakeState = { cursor: m.cursor ?? '0-0', consumed, counters: { ...NO_COUNTS, ...(m.counters ?? {}) }, ledger: new Ledger(l ? (l.data as BigInt64Array) : []) };
  log.info({ step: latest.step, cursor: intake.cursor, version: loaded.policy.version }, 'resumed from checkpoint');
  return { policy: loaded.policy, step: latest.step, intake, tensors: loaded.extraTensors, ...(members ? { members } : {}), ...(m.league ? { league: m.league } : {}) };
}

/**
 * The experiment's policies around the restored (or fresh, or warm-started) one: with named
 * policies, that one is the solver's; every other starts from a checkpoint's copy or, fresh,
 * from the same weights (the warm start's), as R-Zero's challenger and solver start from one base.
 */
async function policySet(ctx: ExperimentContext, restored: Restored, runtime: PolicyOptions): Promise<PolicySet> {
  const segments = ctx.recipe.segments(ctx.config.options);
  if (!ctx.config.policies) return PolicySet.create(ctx.config, new Map([['', restored.policy]]), segments, runtime, new Map(restored.tensors ? [['', restored.tensors]] : []));
  const solver = ctx.config.roles!.solver;
  const policies = new Map<string, Policy>();
  const tensors = new Map<string, Readonly<Record<string, CheckpointTensor>>>();
  const copied = new Map<string, number>();
  try {
    const start = restored.members ? undefined : await restored.policy.state(false);
    for (const name of policyNames(ctx.config)) {
      if (name === solver) {
        policies.set(name, restored.policy);
        if (restored.tensors) tensors.set(name, restored.tensors);
        continue;
      }
      const kept = restored.members?.get(name);
      if (kept) {
        policies.set(name, kept.policy);
        tensors.set(name, kept.tensors);
        if (kept.copyOf !== undefined) copied.set(name, kept.copyOf);
        continue;
      }
      const p = await Policy.create(ctx.model, runtime);
      policies.set(name, p);
      await p.setState(start!);
    }
  } catch (err) {
    for (const [name, p] of policies) if (name !== solver) await p.close();
    throw err;
  }
  return PolicySet.create(ctx.config, policies, segments, runtime, tensors, copied);
}

/**
 * The record says where training stands: after a resume from a checkpoint older than the record's
 * step (a crash lost the steps since), it goes back to the checkpoint's step, so the API never
 * reports steps that the weights no longer hold.
 */
async function alignRecordedStep(resumed: number, ctx: ExperimentContext, store: ExperimentStore, d: RunDeps, log: Logger): Promise<void> {
  const recorded = (await store.get(ctx.id)).step;
  if (recorded === resumed) return;
  await store.update(ctx.id, (r) => ({ ...r, step: resumed }), d.lease);
  if (recorded > resumed) log.warn({ recorded, resumedStep: resumed }, 'steps after the last checkpoint were lost; training resumes from the checkpoint');
}

/** Held-out evaluation of `policy`, into the record's history with the window's judge stats and the curriculum. */
async function evaluateInto(
  ctx: ExperimentContext, policy: Policy, store: ExperimentStore, d: RunDeps, window: StatMeans, log: Logger, step: number, stage?: 'warmstart',
): Promise<EvalReport> {
  const report = await heldOutEval(ctx, policyHandle(ctx.vocab, policy, ctx.text));
  for (const [suite, ms] of Object.entries(report)) for (const [metric, v] of Object.entries(ms)) d.metrics.gauge('spar_eval_score').set({ experiment: ctx.id, suite, metric }, v);
  const means = window.take();
  const curriculum = await readCurriculum(d.redis, ctx.id);
  const judgeStats = means && curriculum.distinctPer1000 !== undefined ? { ...means, distinctPer1000: curriculum.distinctPer1000 } : means;
  await store.update(ctx.id, (r) => ({
    ...r, eval: report, curriculum,
    evaluations: keepHistory([...r.evaluations, { step, at: new Date().toISOString(), eval: report, ...(judgeStats ? { judgeStats } : {}), ...(stage ? { stage } : {}) }]),
  }), d.lease);
  log.info({ step, eval: report, judgeStats, ...(stage ? { stage } : {}) }, 'evaluation');
  return report;
}
