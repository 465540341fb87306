import { join } from 'node:path';
import { keys, SparError, type WarmStartProgress } from '@spar/core';
import {
  Learner, readHfModel, readSourceWeights, restorePolicy, savePolicy, shapeMismatch,
  type Policy, type SourceWeights,
} from '@spar/policy';
import type { EvalReport } from '@spar/recipes';
import type { ExperimentContext, ExperimentLease, ExperimentStore, Logger, Metrics, Redis } from '@spar/service-kit';
import { CheckpointCommits } from './checkpoint-commit.ts';

export interface WarmStartDeps {
  readonly ctx: ExperimentContext;
  readonly policy: Policy;
  readonly redis: Redis;
  readonly lease: ExperimentLease;
  readonly store: ExperimentStore;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** `<SPAR_DATA_DIR>`: where earlier experiments' checkpoints are (from: experiment). */
  readonly dataDir: string;
  /** This experiment's folder: the stage checkpoints under `warmstart/`. */
  readonly root: string;
  /** Held-out evaluation, recorded as a warm-start entry at `step`. */
  readonly evaluate: (step: number) => Promise<EvalReport>;
  /** The process is shutting down: checkpoint and leave. */
  readonly stopping: () => boolean;
}

export type WarmStartEnd = 'done' | 'released';

/** Why a warm start cannot run (the experiment then ends failed with this reason). */
export class WarmStartError extends SparError {
  constructor(message: string) {
    super('WARM_START', message);
  }
}

/** Counter fields of the committed warm-start checkpoint: `<this>_step`, `<this>_dir`. */
const COMMITTED = 'warmstart_checkpoint';
const PROGRESS_EVERY = 10;

interface StageMeta { stage: 'warmstart'; done: boolean; evalBefore?: EvalReport; eval?: EvalReport; seconds: number }

/**
 * The warm-start stage: before self-play, in the same experiment. `sft` trains the policy on the
 * recipe's examples (cross-entropy on the answers) with its own checkpoints (a killed learner
 * resumes the stage where its newest committed checkpoint left it); the other sources load the
 * weights of an earlier policy. Held-out evaluation before and after; the record's `warmStart`
 * shows progress. Ends with the policy holding the warm weights, step 0 and fresh optimizer
 * moments (self-play counts its own steps); the version keeps counting up.
 */
export async function runWarmStart(d: WarmStartDeps): Promise<WarmStartEnd> {
  const ws = d.ctx.config.warmStart!;
  const wsRoot = join(d.root, 'warmstart', 'checkpoints');
  const t0 = Date.now();
  const commits = new CheckpointCommits(d.redis, d.lease, wsRoot, COMMITTED, 2);
  const latest = await commits.resume(d.log);
  let meta: StageMeta = { stage: 'warmstart', done: false, seconds: 0 };
  if (latest) {
    meta = (await restorePolicy(d.policy, latest.dir)).metadata as unknown as StageMeta;
    d.log.info({ step: latest.step, done: meta.done }, 'warm start resumed from its checkpoint');
  }
  const progress = async (p: Partial<WarmStartProgress>) => {
    await d.store.update(d.ctx.id, (r) => ({ ...r, warmStart: { from: ws.from, state: 'running', step: 0, ...(r.warmStart ?? {}), ...p } as WarmStartProgress }), d.lease);
  };
  const gauge = (name: string, v: number) => d.metrics.gauge(name).set({ experiment: d.ctx.id }, v);

  const secondsAtStart = meta.seconds;
  if (!meta.done) {
    if (!latest) {
      // An imported model's random initialisation says nothing, and evaluating it costs a large model's full evaluation.
      if (ws.from !== 'hf') meta.evalBefore = await d.evaluate(0);
      await progress({ state: 'running', step: 0, ...(meta.evalBefore ? { evalBefore: meta.evalBefore } : {}), ...(ws.steps ? { steps: ws.steps } : {}) });
    }
    const save = async (done: boolean) => {
      const st = await d.policy.state(false);
      meta = { ...meta, done, seconds: secondsAtStart + (Date.now() - t0) / 1000 };
      // The stage's last save may land on a step a periodic checkpoint already took: the commit
      // replaces this claim's folder of that step (a crash in between leaves the previous commit).
      await commits.commit(st.step, async (dir) => { await savePolicy(d.policy, dir, { metadata: { ...meta, fence: d.lease.token } }); });
    };
    if (ws.from === 'sft') {
      const end = await supervised(d, meta.seconds, async () => save(false), progress, gauge);
      if (end === 'released') { await save(false); return 'released'; }
    } else if (d.policy.lora && ws.from === 'hf') {
      // Adapters on the imported model: the engine read the frozen base from the folder when it was created.
      await progress({ source: ws.path! });
      d.log.info({ from: ws.path }, 'warm start: LoRA adapters on the imported base');
    } else {
      // An earlier experiment's latest weights are its newest checkpoint; its best, the export of the league's best.
      // An imported model (hf) is read at the context the experiment runs it with (the policy's).
      const path = ws.from === 'experiment' ? join(d.dataDir, ws.id!, ws.policy === 'best' ? 'export-best' : 'checkpoints') : ws.path!;
      let source: SourceWeights;
      try {
        source = ws.from === 'hf' ? await readHfModel(path, { context: d.policy.config.context }) : await readSourceWeights(path);
      } catch (err) {
        throw new WarmStartError(`warm start from ${ws.from} ${ws.id ?? ws.path}: ${(err as Error).message}`);
      }
      const why = shapeMismatch(d.policy.config, source.config);
      if (why) throw new WarmStartError(`warm start from ${ws.from} ${ws.id ?? ws.path}: ${why}`);
      const st = await d.policy.state(false);
      await d.policy.setState({ params: source.params, step: st.step, version: st.version + 1 });
      await progress({ source: source.from });
      d.log.info({ from: source.from }, 'warm start: weights loaded');
    }
    const st = await d.policy.state(false);
    meta.eval = await d.evaluate(st.step);
    await save(true);
  }
  // Self-play starts from the warm weights: its own step count, fresh AdamW moments.
  const st = await d.policy.state(false);
  await d.policy.setState({ params: st.params, step: 0, version: st.version });
  await progress({ state: 'done', step: st.step, evalBefore: meta.evalBefore, eval: meta.eval, seconds: Math.round(meta.seconds) });
  gauge('spar_warmstart_progress', 1);
  d.log.info({ step: st.step, evalBefore: meta.evalBefore, eval: meta.eval, seconds: Math.round(meta.seconds) }, 'warm start done');
  return 'done';
}

/** The supervised loop; resumes at the policy's step, continuing the example stream. */
async function supervised(
  d: WarmStartDeps, secondsBefore: number, checkpoint: () => Promise<void>,
  progress: (p: Partial<WarmStartProgress>) => Promise<void>, gauge: (name: string, v: number) => void,
): Promise<'done' | 'released'> {
  const ws = d.ctx.config.warmStart!;
  const recipe = d.ctx.recipe;
  if (!recipe.warmStartExamples) throw new WarmStartError(`recipe ${recipe.name} supplies no warm-start examples (from: sft)`);
  // Held-out tasks the stream skips (decontamination). The stream is deterministic, so the count
  // after a resume's replay is the stage's total so far; recorded as an absolute value.
  let excluded = 0;
  const stream = recipe.warmStartExamples(d.ctx.config, d.ctx.vocab, ws.seed ?? (d.ctx.model.seed ?? 0) + 1, (source, n) => {
    excluded += n;
    d.metrics.counter('spar_tasks_excluded_total').inc({ recipe: recipe.name, source, reason: 'held_out' }, n);
  });
  const recordExcluded = () => d.lease.hset(keys.counters(d.ctx.id), { excluded_warm_start: excluded });
  const learner = await Learner.create(d.policy, { kind: 'sft' }, { ...d.ctx.config.learner.optimizer, lr: ws.lr });
  let step = (await d.policy.state(false)).step;
  // The stream is deterministic: a resumed stage skips what the steps before it consumed.
  for (let i = 0; i < step; i++) stream(ws.batchSize);
  const start = Date.now();
  const outOfTime = () => ws.minutes !== undefined && secondsBefore + (Date.now() - start) / 1000 >= ws.minutes * 60;
  while ((ws.steps === undefined || step < ws.steps) && !outOfTime()) {
    if (d.stopping() || d.lease.lost) return 'released';
    if ((await d.store.get(d.ctx.id)).stopRequested) break;
    const t0 = performance.now();
    const m = await learner.step(stream(ws.batchSize));
    if (m.skipped) { d.metrics.counter('spar_warmstart_steps_total').inc({ experiment: d.ctx.id, result: 'skipped' }); continue; }
    step = m.step;
    d.metrics.counter('spar_warmstart_steps_total').inc({ experiment: d.ctx.id, result: 'ok' });
    d.metrics.histogram('spar_warmstart_step_seconds').observe((performance.now() - t0) / 1000);
    gauge('spar_warmstart_loss', m.loss);
    if (ws.steps) gauge('spar_warmstart_progress', step / ws.steps);
    if (step % PROGRESS_EVERY === 0) await progress({ step, loss: m.loss });
    if (ws.evalEvery > 0 && step % ws.evalEvery === 0 && (ws.steps === undefined || step < ws.steps)) await d.evaluate(step);
    if (step % ws.checkpointEvery === 0 && (ws.steps === undefined || step < ws.steps)) {
      await checkpoint();
      await recordExcluded();
    }
  }
  await recordExcluded();
  await progress({ step });
  return 'done';
}
