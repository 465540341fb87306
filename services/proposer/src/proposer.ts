import type { Queue } from 'bullmq';
import { groupId, keys, PayloadTooLargeError, policyFor, queues, taskId, type Envelope, type RolloutJob, type Sample, type TaskJob } from '@spar/core';
import { seededRng } from '@spar/recipes/games';
import { isHeldOutReason, policyHandle, type CopyKind, type ExclusionSource, type ProposedTask, type RecipeRegistry } from '@spar/recipes';
import {
  readGrpcTls, type GrpcTls, Admission, admissionBudget, closeRedis, connectRedis, enqueue, loadExperimentContext, ExperimentStore, grpc, makeQueue, RunningExperiments,
  type ExperimentContext, type Logger, type Metrics, type Redis,
} from '@spar/service-kit';
import { FollowedPolicy } from '@spar/service-kit/followed-policy';
import type { ProposerConfig } from './config.ts';
import { JudgePool } from './judge-pool.ts';

interface Served {
  readonly ctx: ExperimentContext;
  readonly policy?: FollowedPolicy;
  readonly queue: Queue;
  /** The judge's queue, for proposals whose task was invalid (recipes that train them). */
  readonly rollouts?: Queue;
  readonly connection: Redis;
  /** The experiment's admission budget (absent with rollout.admission: off): read only, for backpressure. */
  readonly admission?: Admission;
  stop: boolean;
  loop?: Promise<void>;
}

/** New proposals whose programs are kept for `distinct programs per 1,000 proposals`. */
const NOVELTY_WINDOW = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The proposer: keeps each running experiment's tasks queue filled with new, judge-validated tasks. */
export class Proposer {
  private readonly served = new Map<string, Served>();
  private running?: RunningExperiments;
  private readonly judge: JudgePool;
  private closed?: Promise<void>;
  /** gRPC TLS (SPAR_GRPC_TLS_*), read once. */
  private readonly tls: GrpcTls | undefined;

  constructor(
    private readonly cfg: ProposerConfig, private readonly redis: Redis, private readonly recipes: RecipeRegistry,
    private readonly logger: Logger, private readonly metrics: Metrics,
  ) {
    this.tls = readGrpcTls(cfg);
    this.judge = new JudgePool({ fixed: cfg.SPAR_JUDGE_ADDR || undefined, redis, deadlineMs: cfg.SPAR_JUDGE_DEADLINE_MS, token: cfg.SPAR_GRPC_TOKEN, tls: this.tls, logger: logger.child({ component: 'judges' }) });
  }

  start(): void {
    this.running = new RunningExperiments(this.redis, { start: (rec) => this.serve(rec.id), stop: (id) => this.unserve(id) }, this.logger, undefined, this.metrics);
    this.running.start();
  }

  private async serve(id: string): Promise<void> {
    const ctx = await loadExperimentContext(await new ExperimentStore(this.redis).get(id), this.recipes);
    const log = this.logger.child({ experimentId: id });
    const policy = ctx.recipe.proposesWithPolicy
      ? await FollowedPolicy.create(id, ctx.model, ctx.vocab, { redis: this.redis, logger: log, metrics: this.metrics, threads: this.cfg.SPAR_THREADS || undefined, grpcToken: this.cfg.SPAR_GRPC_TOKEN, grpcTls: this.tls }, policyFor(ctx.config, 'proposer'))
      : undefined;
    const connection = connectRedis(this.cfg.REDIS_URL, `proposer-${id}`, log);
    const budget = admissionBudget(ctx.config);
    const s: Served = {
      ctx, policy, queue: makeQueue(queues.tasks(id), connection, log), connection, stop: false,
      ...(budget !== undefined ? { admission: new Admission(connection, id, { budget, ttlMs: 30000 }) } : {}),
      ...(ctx.recipe.trainsInvalidProposals ? { rollouts: makeQueue(queues.rollouts(id), connection, log) } : {}),
    };
    this.served.set(id, s);
    await this.seedBuffer(ctx, log);
    s.loop = this.loop(s, log);
    log.info({ withPolicy: !!policy }, 'proposing for experiment');
  }

  /**
   * Pin the recipe's seed tasks in the buffer, once per experiment (the first proposer to claim
   * `buffer_seeded` does it; the tasks are deterministic in the experiment's seed). Seed tasks
   * count as seen, so proposing one again is a duplicate.
   */
  private async seedBuffer(ctx: ExperimentContext, log: Logger): Promise<void> {
    if (!ctx.recipe.seedTasks || !(await this.redis.hsetnx(keys.counters(ctx.id), 'buffer_seeded', 1))) return;
    const tasks = ctx.recipe.seedTasks(ctx.config, ctx.config.seed, (source, n) => void this.excluded(ctx, source, n));
    const m = this.redis.multi();
    tasks.forEach((t, i) => {
      const v = ctx.recipe.validateTask(t, ctx.config.options);
      if (!v.valid || v.canonical === undefined) return;
      m.zadd(keys.taskSeed(ctx.id), i, JSON.stringify(v.task ?? t)).zadd(keys.taskSeen(ctx.id), Date.now(), taskId(ctx.id, v.canonical));
    });
    await m.exec();
    log.info({ seedTasks: tasks.length }, 'task buffer seeded');
  }

  private async unserve(id: string): Promise<void> {
    const s = this.served.get(id);
    this.served.delete(id);
    if (!s) return;
    s.stop = true;
    await s.loop;
    await s.queue.close();
    await s.rollouts?.close();
    await s.policy?.close();
    await closeRedis(s.connection);
  }

  private async loop(s: Served, log: Logger): Promise<void> {
    if (s.policy) await Promise.race([s.policy.ready(), new Promise((r) => { const t = setInterval(() => { if (s.stop) { clearInterval(t); r(undefined); } }, 100); })]);
    const bound = s.ctx.config.rollout.maxQueuedTasks;
    // With admission, keep only enough tasks queued for the solvers to start at once when the
    // budget frees up: tasks proposed with the policy age in the queue like rollouts do.
    const floor = Math.min(bound, s.ctx.config.rollout.concurrency);
    while (!s.stop) {
      try {
        const c = await s.queue.getJobCounts('waiting', 'delayed', 'prioritized');
        const depth = (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
        if (depth >= bound) {
          this.metrics.counter('spar_proposer_paused_total').inc({ experiment: s.ctx.id, reason: 'queue' });
          await sleep(100);
          continue;
        }
        if (s.admission && depth >= floor && !(await s.admission.headroom()).admitted) {
          this.metrics.counter('spar_proposer_paused_total').inc({ experiment: s.ctx.id, reason: 'admission' });
          await sleep(100);
          continue;
        }
        await this.round(s, Math.min(this.cfg.SPAR_BATCH, bound - depth));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'proposal round failed');
        await sleep(500);
      }
    }
  }

  /**
   * One round: propose (with the whole buffer), validate with the judge (deadline), sort out
   * copies and held-out tasks, enqueue the new ones with deterministic ids, and fill the recipe's
   * replay share with buffer tasks.
   */
  private async round(s: Served, count: number): Promise<void> {
    const id = s.ctx.id;
    const recipe = s.ctx.recipe;
    const options = s.ctx.config.options;
    const batchNo = await this.redis.hincrby(keys.counters(id), 'proposer_rounds', 1);
    const rng = seededRng(((s.ctx.config.seed * 2654435761) ^ batchNo) >>> 0);
    const buffer = await this.readBuffer(s);
    const share = recipe.replayShare?.(options) ?? 0;
    const replays = share > 0 && buffer.length > 0 ? Math.min(count, Math.floor(count * share + rng())) : 0;
    const proposed: ProposedTask[] = await recipe.propose({
      config: s.ctx.config, buffer, count: count - replays, rng, excluded: (source, n) => void this.excluded(s.ctx, source, n),
      policy: s.policy && policyHandle(s.ctx.vocab, s.policy, s.ctx.text),
    });
    if (proposed.length > 0) await this.admit(s, proposed, batchNo);
    if (replays > 0) await this.replay(s, buffer, replays, batchNo, rng);
  }

  /** The buffer as proposers see it: valid tasks newest first, then the pinned seed tasks. */
  private async readBuffer(s: Served): Promise<unknown[]> {
    const recent = await this.redis.zrevrange(keys.taskBuffer(s.ctx.id), 0, -1);
    const seed = await this.redis.zrange(keys.taskSeed(s.ctx.id), '0', '-1');
    return [...recent, ...seed].map((r) => JSON.parse(r) as unknown);
  }

  private async admit(s: Served, proposed: readonly ProposedTask[], batchNo: number): Promise<void> {
    const id = s.ctx.id;
    const recipe = s.ctx.recipe;
    const t0 = performance.now();
    let verdicts;
    try {
      verdicts = await this.judge.validate(id, proposed.map((p) => p.task));
      this.metrics.histogram('spar_judge_rpc_seconds').observe({ outcome: 'ok' }, (performance.now() - t0) / 1000);
    } catch (err) {
      const code = (err as grpc.ServiceError).code;
      this.metrics.histogram('spar_judge_rpc_seconds').observe({ outcome: code === grpc.status.DEADLINE_EXCEEDED ? 'timeout' : 'error' }, (performance.now() - t0) / 1000);
      if (code === grpc.status.DEADLINE_EXCEEDED) this.metrics.counter('spar_judge_rpc_timeouts_total').inc();
      throw err;
    }
    const outcome = (o: 'valid' | 'invalid' | 'copy' | 'duplicate' | 'held_out') => {
      this.metrics.counter('spar_tasks_proposed_total').inc({ experiment: id, outcome: o });
      return this.redis.hincrby(keys.counters(id), `proposals_${o}`, 1);
    };
    // Novelty keys of this round's new tasks, for the batch-mate copy check.
    const batchKeys = new Set<string>();
    for (const [i, v] of verdicts.entries()) {
      const p = proposed[i]!;
      if (!v.valid) {
        if (isHeldOutReason(v.reason)) {
          // Decontamination: never solved, never trained (a penalty would teach the test set too).
          await outcome('held_out');
          await this.excluded(s.ctx, p.proposal ? 'proposal' : 'generator', 1);
          continue;
        }
        await outcome('invalid');
        if (s.rollouts && p.proposal) await this.reportProposal(s, p.task, p, `x-${id}-r${batchNo}-${i}`);
        continue;
      }
      const tid = taskId(id, v.canonical);
      const task = JSON.parse(v.task_json) as unknown;
      const duplicate = (await this.redis.zscore(keys.taskSeen(id), tid)) !== null;
      if (!recipe.trainsCopies || !p.proposal) {
        if (duplicate) { await outcome('duplicate'); continue; }
      } else {
        const novelty = recipe.novelty?.(task, s.ctx.config.options);
        const key = novelty?.key;
        const shown = new Set((p.shown ?? []).map((r) => recipe.novelty?.(r, s.ctx.config.options)?.key));
        const copy = duplicate ? 'duplicate' : key !== undefined && shown.has(key) ? 'reference' : key !== undefined && batchKeys.has(key) ? 'batch' : undefined;
        if (copy) {
          await outcome('copy');
          if (s.rollouts) await this.reportProposal(s, task, p, `c-${id}-r${batchNo}-${i}`, copy);
          continue;
        }
        if (key !== undefined) batchKeys.add(key);
        if (novelty?.program !== undefined) {
          await this.redis.multi().lpush(keys.novelty(id), novelty.program).ltrim(keys.novelty(id), 0, NOVELTY_WINDOW - 1).exec();
        }
      }
      if (!(await this.enqueueTask(s, tid, task, p.proposal))) continue;
      await outcome('valid');
      // The dedupe record keeps the newest SPAR_TASK_SEEN_MAX task ids (bounded, like the buffer).
      await this.redis.multi()
        .zadd(keys.taskSeen(id), Date.now(), tid).zremrangebyrank(keys.taskSeen(id), 0, -this.cfg.SPAR_TASK_SEEN_MAX - 1)
        .zadd(keys.taskBuffer(id), Date.now(), v.task_json).zremrangebyrank(keys.taskBuffer(id), 0, -this.cfg.SPAR_TASK_BUFFER - 1)
        .exec();
    }
  }

  /**
   * Solver replay: `n` tasks drawn uniformly (with replacement) from the whole buffer, leaving out
   * tasks a solver group answered correctly every time (the judge's solved set) and held-out ones
   * (none should be there; counted as 'replay' exclusions). Each is a new task id, so its group is
   * new experience; it carries no proposal (only the solver trains on it).
   */
  private async replay(s: Served, buffer: readonly unknown[], n: number, batchNo: number, rng: () => number): Promise<void> {
    const id = s.ctx.id;
    const recipe = s.ctx.recipe;
    const heldOut = recipe.heldOut?.(s.ctx.config);
    for (let k = 0, tries = 0; k < n && tries < 4 * n; tries++) {
      const task = buffer[Math.floor(rng() * buffer.length)]!;
      const v = recipe.validateTask(task, s.ctx.config.options);
      if (!v.valid || v.canonical === undefined) continue;
      if (heldOut?.has(task)) { await this.excluded(s.ctx, 'replay', 1); continue; }
      if ((await this.redis.zscore(keys.taskSolved(id), v.canonical)) !== null) continue;
      const labelled = recipe.replayTask ? recipe.replayTask(v.task ?? task) : (v.task ?? task);
      if (await this.enqueueTask(s, taskId(id, `replay:${batchNo}:${k}:${v.canonical}`), labelled, undefined)) {
        this.metrics.counter('spar_tasks_replayed_total').inc({ experiment: id });
        k++;
      }
    }
  }

  /** Enqueue one task for the solvers; false when its payload is over the size cap. */
  private async enqueueTask(s: Served, tid: string, task: unknown, proposal: Sample | undefined): Promise<boolean> {
    const envelope: Envelope = {
      experimentId: s.ctx.id, recipe: s.ctx.recipe.name, role: 'proposer', policyVersion: proposal?.policyVersion ?? -1,
      taskId: tid, groupId: '', trajectoryId: '', parentIds: [], createdAt: new Date().toISOString(),
    };
    try {
      await enqueue(s.queue, tid, { envelope, task, proposal } satisfies TaskJob);
      return true;
    } catch (err) {
      if (err instanceof PayloadTooLargeError) { this.metrics.counter('spar_payload_rejected_total').inc({ service: 'proposer', queue: 'tasks' }); return false; }
      throw err;
    }
  }

  /** Held-out tasks a source left out: the metric and the run's counters (the record's curriculum). */
  private async excluded(ctx: ExperimentContext, source: ExclusionSource, n: number): Promise<void> {
    if (n <= 0) return;
    this.metrics.counter('spar_tasks_excluded_total').inc({ recipe: ctx.recipe.name, source, reason: 'held_out' }, n);
    await this.redis.hincrby(keys.counters(ctx.id), `excluded_${source}`, n);
  }

  /**
   * Send a proposal the solvers will not see to the judge as a group without rollouts, so it is
   * trained: an invalid one with the recipe's penalty, a copy (`copy` set) with its copy penalty.
   * The group id is unique per (experiment, proposal round, index), so a repeated enqueue is one
   * BullMQ job and a repeated append one stream entry.
   */
  private async reportProposal(s: Served, task: unknown, p: ProposedTask, key: string, copy?: CopyKind): Promise<void> {
    const gid = groupId(key, 0);
    const envelope: Envelope = {
      experimentId: s.ctx.id, recipe: s.ctx.recipe.name, role: 'proposer', policyVersion: p.proposal?.policyVersion ?? -1,
      taskId: '', groupId: gid, trajectoryId: '', parentIds: [], createdAt: new Date().toISOString(),
    };
    try {
      await enqueue(s.rollouts!, gid, { envelope, task, proposal: p.proposal, rollouts: [], ...(copy ? { copy } : {}) } satisfies RolloutJob);
      if (!copy) this.metrics.counter('spar_invalid_proposals_reported_total').inc({ experiment: s.ctx.id });
    } catch (err) {
      if (err instanceof PayloadTooLargeError) { this.metrics.counter('spar_payload_rejected_total').inc({ service: 'proposer', queue: 'rollouts' }); return; }
      throw err;
    }
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.running?.close();
      for (const id of [...this.served.keys()]) await this.unserve(id);
      this.judge.close();
    })();
    return this.closed;
  }
}
