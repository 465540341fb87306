import { UnrecoverableError, type Worker } from 'bullmq';
import { keys, queues, trajectoryId, type ExperienceEntry, type RolloutJob, type Validity } from '@spar/core';
import type { JudgedGroup } from '@spar/recipes';
import { JudgeCrashedError, JudgeSandbox, JudgeTimeoutError, SandboxBusyError } from './sandbox.ts';
import type { RecipeRegistry } from '@spar/recipes';
import {
  readGrpcTls, appendExperience, closeRedis, releaseAdmission, connectRedis, loadExperimentContext, ExperimentStore, grpc, grpcStatusOf, makeWorker,
  RunningExperiments, sparProto, startGrpcServer, type ExperimentContext, type GrpcServerHandle, type Logger, type Metrics, type Redis,
} from '@spar/service-kit';
import type { JudgeConfig } from './config.ts';

/** Solved task keys remembered for solver replay (the newest). */
const SOLVED_MAX = 50000;

interface Served {
  readonly ctx: ExperimentContext;
  readonly worker: Worker<RolloutJob>;
  readonly connection: Redis;
}

/** The judge: source of reward. Validates proposed tasks over gRPC; judges rollout groups from the queue. */
export class Judge {
  private readonly served = new Map<string, Served>();
  private running?: RunningExperiments;
  private grpc?: GrpcServerHandle;
  private readonly sandbox: JudgeSandbox;
  private closed?: Promise<void>;

  constructor(
    private readonly cfg: JudgeConfig, private readonly redis: Redis, private readonly recipes: RecipeRegistry,
    private readonly logger: Logger, private readonly metrics: Metrics,
    /** The sandbox processes' module (default: ./sandbox-worker; tests hand in a hostile one). */
    sandboxEntry?: URL,
  ) {
    this.sandbox = new JudgeSandbox({
      threads: cfg.SPAR_SANDBOX_THREADS, timeoutMs: cfg.SPAR_JUDGE_TIMEOUT_MS, maxHeapMb: cfg.SPAR_SANDBOX_HEAP_MB, maxMemoryMb: cfg.SPAR_SANDBOX_MEMORY_MB,
      maxQueued: cfg.SPAR_SANDBOX_QUEUE, ...(sandboxEntry ? { entry: sandboxEntry } : {}),
    });
  }

  get grpcPort(): number | undefined {
    return this.grpc?.port;
  }

  async start(): Promise<void> {
    const { JudgeService } = sparProto();
    this.grpc = await startGrpcServer(`${this.cfg.SPAR_GRPC_HOST}:${this.cfg.SPAR_GRPC_PORT}`, [
      { name: 'spar.v1.JudgeService', definition: JudgeService.service, impl: { ValidateTasks: this.validateTasks } },
    ], { token: this.cfg.SPAR_GRPC_TOKEN, tls: readGrpcTls(this.cfg), insecure: this.cfg.SPAR_INSECURE, logger: this.logger });
    this.running = new RunningExperiments(this.redis, {
      start: (rec) => this.serve(rec.id),
      stop: (id) => this.unserve(id),
    }, this.logger, undefined, this.metrics);
    this.running.start();
  }

  /** The served experiment's context, or (not kept: nothing accumulates) one read from its record. */
  private async context(id: string): Promise<ExperimentContext> {
    return this.served.get(id)?.ctx ?? loadExperimentContext(await new ExperimentStore(this.redis).get(id), this.recipes);
  }

  private readonly validateTasks = (call: grpc.ServerUnaryCall<{ experiment_id: string; tasks_json: string[] }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    const { experiment_id: exp, tasks_json: tasks } = call.request;
    const fail = (code: grpc.status, details: string) => {
      this.metrics.counter('spar_bad_input_total').inc({ service: 'judge', kind: 'malformed_grpc' });
      cb({ code, details });
    };
    if (!exp) return fail(grpc.status.INVALID_ARGUMENT, 'experiment_id is required');
    if (!Array.isArray(tasks) || tasks.length > this.cfg.SPAR_MAX_TASKS_PER_CALL) {
      return fail(grpc.status.INVALID_ARGUMENT, `tasks_json must hold 1..${this.cfg.SPAR_MAX_TASKS_PER_CALL} tasks`);
    }
    this.context(exp).then(async (ctx) => {
      const parsed = tasks.map((json) => { try { return { ok: true as const, task: JSON.parse(json) as unknown }; } catch { return { ok: false as const }; } });
      const toCheck = parsed.filter((p) => p.ok).map((p) => (p as { task: unknown }).task);
      let verdicts: Validity[];
      try {
        verdicts = toCheck.length ? await this.sandbox.run<Validity[]>('validate', ctx.config, toCheck) : [];
      } catch (err) {
        this.countSandboxFailure(ctx.recipe.name, err);
        if (err instanceof SandboxBusyError) throw err; // UNAVAILABLE: the proposer retries later
        verdicts = toCheck.map(() => ({ valid: false, reason: err instanceof JudgeTimeoutError ? 'timeout: validation exceeded the executor limit' : `error: ${(err as Error).message}` }));
      }
      this.metrics.counter('spar_judge_validated_tasks_total').inc({ recipe: ctx.recipe.name }, tasks.length);
      let k = 0;
      const results = parsed.map((p) => {
        if (!p.ok) {
          this.metrics.counter('spar_judge_invalid_tasks_total').inc({ recipe: ctx.recipe.name, reason: 'malformed_json' });
          return { valid: false, reason: 'malformed JSON', canonical: '', task_json: '' };
        }
        const v = verdicts[k++]!;
        if (!v.valid) this.metrics.counter('spar_judge_invalid_tasks_total').inc({ recipe: ctx.recipe.name, reason: (v.reason ?? 'invalid').split(':')[0]!.slice(0, 40) });
        return { valid: v.valid, reason: v.reason ?? '', canonical: v.canonical ?? '', task_json: v.valid ? JSON.stringify(v.task ?? p.task) : '' };
      });
      cb(null, { results });
    }).catch((err) => cb({ code: grpcStatusOf(err), details: (err as Error).message }));
  };

  private async serve(id: string): Promise<void> {
    const ctx = await this.context(id);
    const connection = connectRedis(this.cfg.REDIS_URL, `judge-worker-${id}`, this.logger);
    const worker = makeWorker<RolloutJob>(queues.rollouts(id), connection, (job) => this.judgeGroup(ctx, job.data), this.logger.child({ experimentId: id }), {
      concurrency: this.cfg.SPAR_CONCURRENCY, lockDuration: this.cfg.SPAR_JOB_LOCK_MS, stalledInterval: this.cfg.SPAR_STALLED_INTERVAL_MS,
    });
    worker.on('failed', (job, err) => {
      this.logger.warn({ experimentId: id, jobId: job?.id, err: err.message }, 'judging failed');
      // A group that will not be retried never reaches the stream: give its admission token back.
      const final = err instanceof UnrecoverableError || (job && job.attemptsMade >= (job.opts.attempts ?? 1));
      if (final && job?.data?.envelope?.groupId) void releaseAdmission(connection, id, [job.data.envelope.groupId]).catch(() => undefined);
    });
    this.served.set(id, { ctx, worker, connection });
    this.logger.info({ experimentId: id }, 'judging experiment');
  }

  private async unserve(id: string): Promise<void> {
    const s = this.served.get(id);
    this.served.delete(id);
    if (!s) return;
    await s.worker.close();
    await closeRedis(s.connection);
  }

  /** Judge one group and append it to the experience stream exactly once. */
  async judgeGroup(ctx: ExperimentContext, job: RolloutJob): Promise<void> {
    const recipe = ctx.recipe.name;
    const t0 = performance.now();
    let judged: JudgedGroup | { heldOut: true };
    try {
      if (!job?.envelope?.groupId || !Array.isArray(job.rollouts)) throw new Error('malformed rollout job');
      // Executed in a sandbox process with hard time and memory limits: the judge never trusts what it runs.
      judged = await this.sandbox.run<JudgedGroup | { heldOut: true }>('judge', ctx.config, [job.task, job.rollouts, job.proposal, job.copy]);
    } catch (err) {
      this.countSandboxFailure(recipe, err);
      if (err instanceof SandboxBusyError) throw err; // retried by BullMQ with backoff
      if (err instanceof JudgeTimeoutError) throw new UnrecoverableError(`judging exceeded ${this.cfg.SPAR_JUDGE_TIMEOUT_MS} ms; group dropped`);
      if (err instanceof JudgeCrashedError) throw new UnrecoverableError(`${err.message}; group dropped`);
      this.metrics.counter('spar_bad_input_total').inc({ service: 'judge', kind: 'bad_rollout' });
      throw new UnrecoverableError(`rejected rollout group: ${(err as Error).message}`);
    }
    this.metrics.histogram('spar_judge_verdict_seconds').observe({ recipe }, (performance.now() - t0) / 1000);
    if ('heldOut' in judged) {
      // Decontamination's last line: a held-out task slipped past its source's filter. Never trained.
      this.metrics.counter('spar_tasks_excluded_total').inc({ recipe, source: 'judge', reason: 'held_out' });
      await this.redis.hincrby(keys.counters(ctx.id), 'excluded_judge', 1);
      throw new UnrecoverableError('the task poses a prompt of the held-out evaluation set; group dropped');
    }
    if (judged.solvedKey !== undefined) {
      await this.redis.multi().zadd(keys.taskSolved(ctx.id), Date.now(), judged.solvedKey).zremrangebyrank(keys.taskSolved(ctx.id), 0, -SOLVED_MAX - 1).exec();
    }
    const entry: ExperienceEntry = {
      envelope: { ...job.envelope, role: 'judge', parentIds: [job.envelope.groupId], createdAt: new Date().toISOString() },
      provenance: judged.provenance,
      trajectories: judged.trajectories.map((t, i) => ({ ...t, trajectoryId: trajectoryId(job.envelope.groupId, i) })),
      stats: judged.stats,
    };
    const fresh = await appendExperience(this.redis, entry);
    if (!fresh) {
      this.metrics.counter('spar_trajectories_duplicate_total').inc({ experiment: ctx.id }, entry.trajectories.length);
      return;
    }
    this.metrics.counter('spar_trajectories_appended_total').inc({ experiment: ctx.id }, entry.trajectories.length);
    for (const t of entry.trajectories) {
      const outcome = !t.formatOk ? 'format_error' : t.correct ? 'correct' : 'wrong';
      this.metrics.counter('spar_judge_verdicts_total').inc({ recipe, role: t.sample.role, outcome });
      this.metrics.histogram('spar_reward').observe({ recipe, role: t.sample.role }, t.reward);
    }
    for (const [stat, v] of Object.entries(judged.stats ?? {})) this.metrics.gauge('spar_judge_stat').set({ experiment: ctx.id, stat }, v);
    if (judged.stats?.solveRate !== undefined) this.metrics.histogram('spar_solve_rate').observe({ recipe }, judged.stats.solveRate);
    const o = judged.opponent;
    // The learning side's results against each pool snapshot: what prioritized opponent sampling reads.
    if (o && Number.isInteger(o.version) && o.games > 0 && o.score >= 0 && o.score <= 1) {
      await this.redis.multi().hincrbyfloat(keys.poolResults(ctx.id), `${o.version}:score`, o.score * o.games).hincrby(keys.poolResults(ctx.id), `${o.version}:games`, o.games).exec();
    }
  }

  private countSandboxFailure(recipe: string, err: unknown): void {
    if (err instanceof JudgeTimeoutError) this.metrics.counter('spar_judge_timeouts_total').inc({ recipe });
    else if (err instanceof JudgeCrashedError) this.metrics.counter('spar_judge_sandbox_failures_total').inc({ recipe, reason: 'crashed' });
    else if (err instanceof SandboxBusyError) this.metrics.counter('spar_judge_sandbox_failures_total').inc({ recipe, reason: 'busy' });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.running?.close();
      for (const id of [...this.served.keys()]) await this.unserve(id);
      await this.grpc?.close();
      await this.sandbox.close();
    })();
    return this.closed;
  }
}

