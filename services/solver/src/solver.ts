import { UnrecoverableError, type Queue, type Worker } from 'bullmq';
import { groupId, PayloadTooLargeError, policyFor, queues, UnavailableError, type RolloutJob, type TaskJob } from '@spar/core';
import { policyHandle, type RecipeRegistry } from '@spar/recipes';
import {
  readGrpcTls, type GrpcTls, Admission, admissionBudget, AdmissionGate, closeRedis, connectRedis, enqueue, loadExperimentContext, ExperimentStore, IdleTracker,
  makeQueue, makeWorker, RunningExperiments, type ExperimentContext, type Logger, type Metrics, type Redis,
} from '@spar/service-kit';
import { FollowedPolicy, Labeler, OpponentPool, type Loan } from '@spar/service-kit/followed-policy';
import type { SolverConfig } from './config.ts';

/** A task taken while the experiment was being unserved: failed on purpose, BullMQ retries it later. */
/** A task of an experiment this solver no longer serves: left for a later attempt (retryable). */
class NotServedError extends UnavailableError {}

interface Served {
  readonly ctx: ExperimentContext;
  readonly policy: FollowedPolicy;
  readonly worker: Worker<TaskJob>;
  readonly out: Queue;
  readonly connection: Redis;
  /** Staleness-aware admission (absent with rollout.admission: off). */
  readonly gate?: AdmissionGate;
  /** Snapshots to play against (config.league). */
  readonly pool?: OpponentPool;
  /** The policy whose answers label the solver's (config.roles.labeler). */
  readonly labeler?: Labeler;
}

/** The solver: takes tasks, samples a group of rollouts with the current policy, enqueues them. */
export class Solver {
  private readonly served = new Map<string, Served>();
  private running?: RunningExperiments;
  private readonly idle = new IdleTracker();
  private active = 0;
  private idleTimer?: NodeJS.Timeout;
  private closed?: Promise<void>;

  /** gRPC TLS (SPAR_GRPC_TLS_*), read once. */
  private readonly tls: GrpcTls | undefined;

  constructor(
    private readonly cfg: SolverConfig, private readonly redis: Redis, private readonly recipes: RecipeRegistry,
    private readonly logger: Logger, private readonly metrics: Metrics,
  ) {
    this.tls = readGrpcTls(cfg);
  }

  start(): void {
    this.running = new RunningExperiments(this.redis, { start: (rec) => this.serve(rec.id), stop: (id) => this.unserve(id) }, this.logger, undefined, this.metrics);
    this.running.start();
    this.idleTimer = setInterval(() => this.metrics.gauge('spar_idle_ratio').set({ service: 'solver' }, this.idle.ratio()), 1000);
    this.idleTimer.unref();
  }

  private async serve(id: string): Promise<void> {
    const ctx = await loadExperimentContext(await new ExperimentStore(this.redis).get(id), this.recipes);
    const log = this.logger.child({ experimentId: id });
    const deps = { redis: this.redis, logger: log, metrics: this.metrics, threads: this.cfg.SPAR_THREADS || undefined, grpcToken: this.cfg.SPAR_GRPC_TOKEN, grpcTls: this.tls };
    // With named policies (config.roles), solvers follow the one that plays the solver role.
    const solverPolicy = policyFor(ctx.config, 'solver');
    const policy = await FollowedPolicy.create(id, ctx.model, ctx.vocab, deps, solverPolicy);
    const labelerPolicy = policyFor(ctx.config, 'labeler');
    let labeler: Labeler | undefined;
    try {
      labeler = labelerPolicy ? new Labeler(this.redis, id, labelerPolicy, await FollowedPolicy.create(id, ctx.model, ctx.vocab, deps, labelerPolicy)) : undefined;
    } catch (err) {
      await policy.close();
      throw err;
    }
    const league = ctx.config.league;
    // One engine per snapshot the pool can hold (the newest `keep` and the best): fewer, and the
    // engines thrash — each reload fetches the weights and compiles its sessions again.
    const pool = league && league.opponents.share > 0 ? new OpponentPool(id, ctx.model, deps, { ...league.opponents, maxEngines: league.keep + 1 }) : undefined;
    const connection = connectRedis(this.cfg.REDIS_URL, `solver-${id}`, log);
    const out = makeQueue(queues.rollouts(id), connection, log);
    const concurrency = Math.min(ctx.config.rollout.concurrency, this.cfg.SPAR_MAX_CONCURRENCY);
    const budget = admissionBudget(ctx.config);
    const gate = budget === undefined ? undefined
      : new AdmissionGate(new Admission(connection, id, { budget, ttlMs: this.cfg.SPAR_ADMISSION_TTL_MS, ...(solverPolicy ? { policy: solverPolicy } : {}) }));
    const worker = makeWorker<TaskJob>(queues.tasks(id), connection, (job) => this.solve(ctx, policy, out, job.data, gate, pool, labeler), log, {
      concurrency, autorun: false, lockDuration: this.cfg.SPAR_JOB_LOCK_MS, stalledInterval: this.cfg.SPAR_STALLED_INTERVAL_MS,
    });
    worker.on('failed', (job, err) => {
      if (err instanceof NotServedError) log.debug({ jobId: job?.id }, 'task left for a later attempt (experiment no longer served)');
      else log.warn({ jobId: job?.id, err: err.message }, 'solving failed');
    });
    this.served.set(id, { ctx, policy, worker, out, connection, gate, pool, ...(labeler ? { labeler } : {}) });
    // Start taking tasks once the learner's weights have arrived (never solve with random init by accident).
    Promise.all([policy.ready(), labeler?.ready()]).then(() => { if (this.served.get(id)?.worker === worker) void worker.run(); });
    log.info({ concurrency }, 'solving experiment');
  }

  private async unserve(id: string): Promise<void> {
    const s = this.served.get(id);
    this.served.delete(id);
    if (!s) return;
    s.gate?.cancel();
    await s.worker.close();
    await s.gate?.close();
    await s.out.close();
    await s.pool?.close();
    await s.labeler?.close();
    await s.policy.close();
    await closeRedis(s.connection);
  }

  private async solve(ctx: ExperimentContext, policy: FollowedPolicy, out: Queue, job: TaskJob, gate?: AdmissionGate, pool?: OpponentPool, labeler?: Labeler): Promise<void> {
    if (!job?.envelope?.taskId) {
      this.metrics.counter('spar_bad_input_total').inc({ service: 'solver', kind: 'malformed_job' });
      this.metrics.counter('spar_jobs_total').inc({ service: 'solver', queue: 'tasks', outcome: 'failed' });
      throw new UnrecoverableError('malformed task job');
    }
    const gid = groupId(job.envelope.taskId, 0);
    if (gate) {
      // Wait (not busy) until a group started now can still be trained within maxStaleness.
      const entry = await gate.enter(gid);
      if (!entry) throw new NotServedError(`experiment ${ctx.id} is no longer served; task left for a later attempt`);
      this.metrics.histogram('spar_admission_wait_seconds').observe({ experiment: ctx.id }, entry.waitedMs / 1000);
      // Generate with the version the learner has published, not an older copy still syncing.
      if (policy.version < entry.publishedVersion && !(await policy.waitForVersion(entry.publishedVersion, this.cfg.SPAR_SYNC_WAIT_MS))) {
        this.metrics.counter('spar_admission_sync_timeouts_total').inc({ experiment: ctx.id });
      }
    }
    let handedOn = false;
    if (this.active++ === 0) this.idle.busy();
    let opp: Loan | undefined;
    try {
      opp = await pool?.pick(Math.random);
      const G = ctx.config.rollout.groupSize;
      const opponent = opp ? { policy: policyHandle(ctx.vocab, opp.policy, ctx.text), version: opp.version } : undefined;
      const same = labeler ? await labeler.sameAs(policy) : undefined;
      const labeledBy = labeler ? { labeler: { policy: policyHandle(ctx.vocab, labeler.policy, ctx.text), sameAsPolicy: same! } } : {};
      const rollouts = await ctx.recipe.rollout({ config: ctx.config, policy: policyHandle(ctx.vocab, policy, ctx.text), rng: Math.random, ...(opponent ? { opponent } : {}), ...labeledBy }, job.task, G);
      if (labeler) this.metrics.counter('spar_labeled_groups_total').inc({ experiment: ctx.id, how: same ? 'own' : 'separate' });
      if (opp) this.metrics.counter('spar_opponent_games_total').inc({ experiment: ctx.id, sampling: ctx.config.league!.opponents.sampling }, G);
      const data: RolloutJob = {
        envelope: { ...job.envelope, role: 'solver', policyVersion: policy.version, groupId: gid, trajectoryId: '', parentIds: [job.envelope.taskId], createdAt: new Date().toISOString() },
        task: job.task, proposal: job.proposal, rollouts,
      };
      try {
        await enqueue(out, gid, data);
        handedOn = true;
        await gate?.handedOn(gid).catch(() => undefined);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) {
          this.metrics.counter('spar_payload_rejected_total').inc({ service: 'solver', queue: 'rollouts' });
          throw new UnrecoverableError(err.message);
        }
        throw err;
      }
      this.metrics.counter('spar_rollouts_total').inc({ experiment: ctx.id });
      this.metrics.counter('spar_jobs_total').inc({ service: 'solver', queue: 'tasks', outcome: 'ok' });
    } catch (err) {
      this.metrics.counter('spar_jobs_total').inc({ service: 'solver', queue: 'tasks', outcome: 'failed' });
      throw err;
    } finally {
      opp?.release();
      if (!handedOn) await gate?.abandon(gid).catch(() => undefined);
      if (--this.active === 0) this.idle.idle();
    }
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.idleTimer) clearInterval(this.idleTimer);
      await this.running?.close();
      for (const id of [...this.served.keys()]) await this.unserve(id);
    })();
    return this.closed;
  }
}
