import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { idHash64, keys, type ExperimentRecord, type Trajectory } from '@spar/core';
import {
  AdvantageEstimator, CheckpointError, exportOnnx, isStateful, Learner, loadPolicy, Policy, policyWeights, savePolicy,
  type CheckpointTensor, type EstimatorSpec,
} from '@spar/policy';
import type { PolicyHandle, RecipeRegistry } from '@spar/recipes';
import {
  experimentContext, ExperimentStore, readExperience, type ExperimentContext, type ExperimentLease, type IdleTracker, type Logger, type Metrics,
  type PolicyPublisher, type Redis,
} from '@spar/service-kit';
import { estimatorBatch, trainSamples, wellFormed } from './batch.ts';
import { CheckpointCommits } from './checkpoint-commit.ts';
import { Ledger } from './ledger.ts';
import { proposerSignalShare, readCurriculum, StatMeans } from './curriculum.ts';
import { runWarmStart } from './warm-start.ts';
import { ReferencePolicy, referenceFromTensors } from './reference.ts';
import type { LearnerConfig } from './config.ts';

/**
 * The record's evaluation history: the newest 200 entries, but the warm-start stage's entries
 * (up to 20) always stay, so the stage remains on the curves of a long run.
 */
export function keepHistory<E extends { stage?: string }>(all: readonly E[]): E[] {
  const warm = all.filter((e) => e.stage === 'warmstart').slice(-20);
  return [...warm, ...all.filter((e) => e.stage !== 'warmstart').slice(-(200 - warm.length))];
}

/** Counters the learner owns; checkpointed, and mirrored to Redis as absolute values. */
interface LearnerCounters {
  ingested: number;
  droppedStale: number;
  droppedDuplicate: number;
  droppedInvalid: number;
  skippedSteps: number;
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

/**
 * Train one experiment until its budget is spent, it is stopped, or this process shuts down.
 * Resumes from the latest committed checkpoint: weights, moments, estimator state, stream cursor,
 * ledger. Every write to shared state is fenced by the lease: once another learner has claimed
 * the experiment, the next write throws LeaseLostError and nothing more is written.
 */
export async function runExperiment(rec: ExperimentRecord, d: RunDeps): Promise<RunEnd> {
  const ctx: ExperimentContext = experimentContext(rec, d.recipes);
  const { config } = ctx;
  const log = d.logger.child({ experimentId: ctx.id });
  const store = new ExperimentStore(d.redis);
  const root = join(d.cfg.SPAR_DATA_DIR, ctx.id);
  const ckRoot = join(root, 'checkpoints');
  await mkdir(ckRoot, { recursive: true });
  const runtime = { worker: true, ep: d.cfg.SPAR_EP, threads: d.cfg.SPAR_THREADS || undefined, spinning: d.cfg.SPAR_SPIN } as const;

  // ---- restore or initialise
  const segments = ctx.recipe.segments(config.options);
  const segmentIndex = new Map(segments.map((s, i) => [s, i]));
  // Stateful estimators (rae, trr++ with decay) keep one state slot per recipe segment.
  const configured = config.learner.estimator as EstimatorSpec;
  const spec: EstimatorSpec = isStateful(configured)
    ? { ...configured, numKeys: configured.numKeys ?? Math.max(1, segments.length) }
    : configured;
  // A checkpoint counts once its commit (a fenced write) names it; resume() drops every other folder.
  const commits = new CheckpointCommits(d.redis, d.lease, ckRoot, 'checkpoint', config.learner.keepCheckpoints);
  const latest = await commits.resume(log);
  let policy: Policy;
  let cursor = '0-0';
  // Trajectories appended to the stream through `cursor` (entries carry the running count): what
  // admission control counts as consumed.
  let consumed = 0;
  let ledger = new Ledger();
  let counters: LearnerCounters = { ingested: 0, droppedStale: 0, droppedDuplicate: 0, droppedInvalid: 0, skippedSteps: 0 };
  let estState: Float32Array | undefined;
  let loadedExtra: Record<string, CheckpointTensor> = {};
  if (latest) {
    const loaded = await loadPolicy(latest.dir, runtime);
    policy = loaded.policy;
    const m = loaded.metadata as { cursor?: string; consumed?: number; counters?: LearnerCounters; fence?: number };
    if (latest.fence !== undefined && m.fence !== latest.fence) {
      await policy.close();
      throw new CheckpointError(`${latest.dir}: written under fencing token ${m.fence}, its name says ${latest.fence}`);
    }
    cursor = m.cursor ?? '0-0';
    // A checkpoint from before the count existed: count everything appended as consumed (admission
    // is briefly lenient; the next committed step sets the exact figure).
    consumed = m.consumed ?? Number((await d.redis.hget(keys.counters(ctx.id), 'appended_trajectories')) ?? 0);
    counters = { ...counters, ...(m.counters ?? {}) };
    loadedExtra = loaded.extraTensors;
    const l = loaded.extraTensors.ledger;
    if (l) ledger = new Ledger(l.data as BigInt64Array);
    const e = loaded.extraTensors.estimator;
    if (e) estState = e.data as Float32Array;
    log.info({ step: latest.step, cursor, version: policy.version }, 'resumed from checkpoint');
  } else {
    policy = await Policy.create(ctx.model, runtime);
  }
  const handle: PolicyHandle = { vocab: ctx.vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
  // Judge-side measurements of the groups trained since the last evaluation (a measurement window,
  // not state: a restart starts a new window).
  const windowStats = new StatMeans();
  const evaluate = async (step: number, stage?: 'warmstart') => {
    const suites = config.eval.suites ?? ctx.recipe.evalSuites(config.options);
    const report = await ctx.recipe.evaluate(handle, suites, { episodes: config.eval.episodes, seed: config.eval.seed }, config.options);
    for (const [suite, ms] of Object.entries(report)) for (const [metric, v] of Object.entries(ms)) d.metrics.gauge('spar_eval_score').set({ experiment: ctx.id, suite, metric }, v);
    const window = windowStats.take();
    const curriculum = await readCurriculum(d.redis, ctx.id);
    const judgeStats = window && curriculum.distinctPer1000 !== undefined ? { ...window, distinctPer1000: curriculum.distinctPer1000 } : window;
    await store.update(ctx.id, (r) => ({
      ...r, eval: report, curriculum,
      evaluations: keepHistory([...r.evaluations, { step, at: new Date().toISOString(), eval: report, ...(judgeStats ? { judgeStats } : {}), ...(stage ? { stage } : {}) }]),
    }), d.lease);
    log.info({ step, eval: report, judgeStats, ...(stage ? { stage } : {}) }, 'evaluation');
    return report;
  };


  // ---- warm start (config.warmStart): before self-play, unless a self-play checkpoint exists
  if (config.warmStart && !latest) {
    try {
      const wsEnd = await runWarmStart({
        ctx, policy, redis: d.redis, lease: d.lease, store, log, metrics: d.metrics, dataDir: d.cfg.SPAR_DATA_DIR, root,
        evaluate: (step) => evaluate(step, 'warmstart'), stopping: d.stopping,
      });
      if (wsEnd === 'released') { await policy.close(); return 'released'; }
    } catch (err) {
      await policy.close();
      throw err;
    }
  }
  // A version names one weight set: after a resume from a checkpoint older than what a previous
  // holder published, continue above that number, so versions stay monotone and none is reused.
  const published = await d.redis.hget(keys.policy(ctx.id), 'version');
  if (published !== null && Number(published) > policy.version) {
    const st = await policy.state(true);
    await policy.setState({ ...st, version: Number(published) + 1 });
    log.info({ step: st.step, version: policy.version, published: Number(published) }, 'policy version continues above the last published one');
  }
  // The record says where training stands: after a resume from a checkpoint older than the
  // record's step (a crash lost the steps since), it goes back to the checkpoint's step, so the API
  // never reports steps that the weights no longer hold.
  const resumedStep = (await policy.state(false)).step;
  const recorded = (await store.get(ctx.id)).step;
  if (recorded !== resumedStep) {
    await store.update(ctx.id, (r) => ({ ...r, step: resumedStep }), d.lease);
    if (recorded > resumedStep) log.warn({ recorded, resumedStep }, 'steps after the last checkpoint were lost; training resumes from the checkpoint');
  }
  const learner = await Learner.create(policy, config.learner.loss, config.learner.optimizer);
  // KL reference (loss.klCoef > 0): the initial weights, or — refreshed every referenceRefreshEvery
  // steps — a magnet that trails the policy. Checkpointed with it, so a resume keeps the same pull.
  const reference = config.learner.loss.klCoef > 0
    ? await ReferencePolicy.create(policy.config, runtime, latest ? referenceFromTensors(policy.config, loadedExtra) : undefined, policy)
    : undefined;
  const estimator = await AdvantageEstimator.create(spec, { threads: 1 });
  if (isStateful(spec)) estState ??= estimator.initialState();

  const publish = async () => {
    const w = await policyWeights(policy);
    // Record first (fenced), then announce: followers install only the version and sha256 recorded here.
    await d.lease.hset(keys.policy(ctx.id), { address: d.advertise, version: String(w.version), sha256: w.sha256 });
    d.publisher.publish(ctx.id, w);
    d.metrics.gauge('spar_policy_version').set({ service: 'learner', experiment: ctx.id }, w.version);
  };
  let advertised = 0; // learner_consumed_trajectories as last written by this run
  const mirrorCounters = () => {
    advertised = Math.max(advertised, consumed);
    return d.lease.hset(keys.counters(ctx.id), {
      ingested_trajectories: counters.ingested, dropped_stale: counters.droppedStale, dropped_duplicate: counters.droppedDuplicate,
      dropped_invalid: counters.droppedInvalid, skipped_steps: counters.skippedSteps, learner_cursor: cursor,
      learner_consumed_trajectories: advertised,
    });
  };
  const checkpoint = async () => {
    const st = await policy.state(false);
    // A committed checkpoint of this step exists (resumed here, or only skipped steps since): keep
    // the stream untrimmed so the batches folded since are re-read after a restart rather than lost.
    if ((await commits.committedStep()) === st.step) return;
    const snapshot = ledger.snapshot();
    await commits.commit(st.step, async (dir) => {
      await savePolicy(policy, dir, {
        metadata: { experimentId: ctx.id, cursor, consumed, counters, fence: d.lease.token },
        extraTensors: {
          ledger: { dtype: 'int64', shape: [snapshot.length], data: snapshot },
          ...(estState ? { estimator: { dtype: 'float32', shape: [estState.length], data: estState } } : {}),
          ...(reference ? await reference.tensors() : {}),
        },
      });
    });
    // Committed: only now may the stream below the cursor go.
    ledger.rotate();
    await d.lease.trimExperience(cursor, d.cfg.SPAR_DEDUPE_WINDOW_MS);
    d.metrics.counter('spar_checkpoints_total').inc({ experiment: ctx.id });
  };
  await publish();
  await mirrorCounters();
  // budget.maxMinutes is self-play time: the warm start (its own steps/minutes) does not count.
  const warmSeconds = (await store.get(ctx.id)).warmStart?.seconds ?? 0;
  const startedAt = Date.parse(rec.startedAt ?? new Date().toISOString()) + warmSeconds * 1000;
  let end: RunEnd | undefined;
  // Busy share of this process's time on the experiment: everything but waiting for experience.
  const runStart = performance.now();
  let waitMs = 0;
  let lastBatchAt = Date.now();
  let stallWarned = false;
  try {
    let step = (await policy.state(false)).step;
    while (!end) {
      if (d.lease.lost) { end = 'lease-lost'; break; }
      const now = await store.get(ctx.id);
      if (now.state !== 'running') { end = 'released'; break; }
      if (now.stopRequested) { end = 'stopped'; break; }
      if (step >= config.budget.maxSteps) { end = 'completed'; break; }
      // Out of time: a run that was still training completed; one that has had no batch for
      // SPAR_STALL_MS did not — it ends failed rather than report an idle wait as success.
      if (Date.now() - startedAt > config.budget.maxMinutes * 60000) { end = Date.now() - lastBatchAt > d.cfg.SPAR_STALL_MS ? 'stalled' : 'completed'; break; }
      if (d.stopping()) { end = 'released'; break; }

      // ---- gather one batch of usable trajectories (whole groups); nothing is consumed until the step commits
      const batch: Trajectory[] = [];
      const seen: bigint[] = [];
      const seenSet = new Set<bigint>();
      const lags: number[] = [];
      const drop = { stale: 0, duplicate: 0, invalid: 0 };
      const stats: Record<string, number>[] = [];
      let batchCursor = cursor;
      let batchConsumed = consumed;
      d.idle.idle();
      const waitStart = performance.now();
      while (batch.length < config.learner.batchSize && !d.stopping()) {
        const items = await readExperience(d.redis, ctx.id, batchCursor, 16, Math.min(d.cfg.SPAR_POLL_MS, 1000));
        if (items.length === 0) {
          // Waiting on the stream: trajectories read and dropped (stale, duplicate, invalid) are
          // resolved, so they no longer count against the admission budget; only the usable ones in
          // this incomplete batch (fewer than batchSize) still do. Without this, a backlog of stale
          // entries could hold the whole budget while the learner waits for more.
          const resolved = batchConsumed - batch.length;
          if (resolved > advertised) {
            advertised = resolved;
            await d.lease.hset(keys.counters(ctx.id), { learner_consumed_trajectories: resolved });
          }
          if (d.lease.lost) break;
          if (!stallWarned && Date.now() - lastBatchAt > d.cfg.SPAR_STALL_MS) {
            stallWarned = true;
            log.warn({ step, waitingS: Math.round((Date.now() - lastBatchAt) / 1000), unusable: batchConsumed - consumed - batch.length },
              'no batch for SPAR_STALL_MS: are solvers and judges serving this experiment?');
          }
          const r = await store.get(ctx.id);
          if (r.stopRequested || r.state !== 'running') break;
          if (Date.now() - startedAt > config.budget.maxMinutes * 60000) break; // out of time while waiting
          continue;
        }
        for (const { id, entry, cumulative } of items) {
          batchCursor = id;
          if (cumulative !== undefined) batchConsumed = cumulative;
          if (entry.stats && typeof entry.stats === 'object') stats.push(entry.stats as Record<string, number>);
          for (const t of entry.trajectories ?? []) {
            const h = idHash64(String(t?.trajectoryId));
            if (ledger.has(h) || seenSet.has(h)) { drop.duplicate++; continue; }
            seen.push(h);
            seenSet.add(h);
            if (!wellFormed(t, ctx.vocab.size, config.policy.context ?? 64)) { drop.invalid++; continue; }
            const lag = policy.version - t.sample.policyVersion;
            lags.push(lag);
            if (lag > config.learner.maxStaleness) { drop.stale++; continue; }
            batch.push(t);
          }
          if (batch.length >= config.learner.batchSize) break;
        }
      }
      d.idle.busy();
      waitMs += performance.now() - waitStart;
      if (batch.length < config.learner.batchSize) continue; // partial: re-read from `cursor` next time
      lastBatchAt = Date.now();
      stallWarned = false;
      for (const h of seen) ledger.add(h);
      // Judge stats: into the evaluation window, and this batch's means (the spar_curriculum gauge).
      const batchStats = new StatMeans();
      for (const s of stats) {
        windowStats.add(s);
        batchStats.add(s);
      }
      for (const lag of lags) d.metrics.histogram('spar_policy_staleness').observe(lag);
      counters.droppedStale += drop.stale;
      counters.droppedDuplicate += drop.duplicate;
      counters.droppedInvalid += drop.invalid;
      for (const [reason, n] of Object.entries(drop)) if (n) d.metrics.counter('spar_trajectories_dropped_total').inc({ experiment: ctx.id, reason }, n);

      // ---- one learner step
      const t0 = performance.now();
      const est = await estimator.compute(estimatorBatch(spec, batch, segmentIndex), estState);
      if (est.state) estState = est.state;
      const plain = trainSamples(batch, est.advantages, est.keep);
      const samples = reference ? await reference.annotate(plain) : plain;
      for (const a of est.advantages) d.metrics.histogram('spar_advantage').observe({ experiment: ctx.id }, a);
      // Curriculum health of this batch: does the proposer get a gradient at all?
      const signal = proposerSignalShare(batch, est.advantages, est.keep);
      if (signal !== undefined) {
        windowStats.add({ proposerNonZeroAdvantage: signal });
        batchStats.add({ proposerNonZeroAdvantage: signal });
      }
      for (const [stat, v] of Object.entries(batchStats.take() ?? {})) d.metrics.gauge('spar_curriculum').set({ experiment: ctx.id, stat }, v);
      d.metrics.counter('spar_zero_variance_groups_total').inc({ experiment: ctx.id }, est.zeroVarianceGroups);
      const m = samples.length ? await learner.step(samples) : undefined;
      cursor = batchCursor;
      consumed = batchConsumed;
      counters.ingested += batch.length;
      d.metrics.counter('spar_trajectories_ingested_total').inc({ experiment: ctx.id }, batch.length);
      if (!m || m.skipped) {
        counters.skippedSteps++;
        d.metrics.counter('spar_learner_steps_total').inc({ experiment: ctx.id, result: 'skipped' });
        await mirrorCounters();
        continue;
      }
      step = m.step;
      if (reference && config.learner.referenceRefreshEvery > 0 && step % config.learner.referenceRefreshEvery === 0) await reference.refresh(policy);
      d.metrics.counter('spar_learner_steps_total').inc({ experiment: ctx.id, result: 'ok' });
      d.metrics.histogram('spar_learner_step_seconds').observe((performance.now() - t0) / 1000);
      d.metrics.gauge('spar_learner_loss').set({ experiment: ctx.id }, m.loss);
      d.metrics.gauge('spar_learner_kl').set({ experiment: ctx.id }, m.kl);
      d.metrics.gauge('spar_learner_entropy').set({ experiment: ctx.id }, m.entropy);
      d.metrics.gauge('spar_learner_clip_fraction').set({ experiment: ctx.id }, m.clipFrac);
      d.metrics.gauge('spar_learner_grad_norm').set({ experiment: ctx.id }, m.gradNorm);
      await publish();
      await mirrorCounters();
      const meanReward = batch.reduce((s, t) => s + t.reward, 0) / batch.length;
      await store.update(ctx.id, (r) => ({
        ...r, step, policyVersion: policy.version,
        metrics: {
          loss: m.loss, kl: m.kl, entropy: m.entropy, clipFrac: m.clipFrac, gradNorm: m.gradNorm, meanReward, ingested: counters.ingested,
          droppedStale: counters.droppedStale, learnerBusy: 1 - waitMs / Math.max(1, performance.now() - runStart),
        },
      }), d.lease);
      if (config.eval.every > 0 && step % config.eval.every === 0 && step < config.budget.maxSteps) await evaluate(step);
      if (step % config.learner.checkpointEvery === 0) await checkpoint();
    }

    if (end === 'completed' || end === 'stopped' || end === 'stalled') {
      const report = await evaluate(step);
      await checkpoint();
      const exportDir = join(root, 'export');
      const exp = await exportOnnx(policy, exportDir, { tokenizer: ctx.vocab });
      await mirrorCounters();
      const stalled = end === 'stalled'
        ? { reason: `stalled: no batch for ${Math.round((Date.now() - lastBatchAt) / 1000)} s when the time budget ran out, at step ${step} of ${config.budget.maxSteps} (were solvers and judges serving it?)` }
        : {};
      await store.transition(ctx.id, end === 'stalled' ? 'failed' : end, {
        eval: report, step, policyVersion: policy.version, artifacts: { onnx: exp.model, sha256: exp.sha256, checkpoints: ckRoot }, ...stalled,
      }, d.lease);
      log.info({ end, step, eval: report }, 'experiment finished');
    } else if (end === 'released') {
      await checkpoint();
      await mirrorCounters();
    }
    return end;
  } finally {
    d.publisher.release(ctx.id);
    await estimator.close();
    await reference?.close();
    await policy.close();
  }
}
