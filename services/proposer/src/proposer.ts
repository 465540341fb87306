import type { Queue } from 'bullmq';
import { groupId, keys, PayloadTooLargeError, queues, taskId, type Envelope, type RolloutJob, type TaskJob } from '@spar/core';
import { seededRng } from '@spar/recipes/games';
import type { ProposedTask, RecipeRegistry } from '@spar/recipes';
import {
  readGrpcTls, type GrpcTls, Admission, admissionBudget, closeRedis, connectRedis, enqueue, experimentContext, ExperimentStore, grpc, makeQueue, RunningExperiments,
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
    const ctx = experimentContext(await new ExperimentStore(this.redis).get(id), this.recipes);
    const log = this.logger.child({ experimentId: id });
    const policy = ctx.recipe.proposesWithPolicy
      ? await FollowedPolicy.create(id, ctx.model, ctx.vocab, { redis: this.redis, logger: log, metrics: this.metrics, threads: this.cfg.SPAR_THREADS || undefined, grpcToken: this.cfg.SPAR_GRPC_TOKEN, grpcTls: this.tls })
      : undefined;
    const connection = connectRedis(this.cfg.REDIS_URL, `proposer-${id}`, log);
    const budget = admissionBudget(ctx.config);
    const s: Served = {
      ctx, policy, queue: makeQueue(queues.tasks(id), connection, log), connection, stop: false,
      ...(budget !== undefined ? { admission: new Admission(connection, id, { budget, ttlMs: 30000 }) } : {}),
      ...(ctx.recipe.trainsInvalidProposals ? { rollouts: makeQueue(queues.rollouts(id), connection, log) } : {}),
    };
    this.served.set(id, s);
    s.loop = this.loop(s, log);
    log.info({ withPolicy: !!policy }, 'proposing for experiment');
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

  /** One round: propose, validate with the judge (deadline), dedupe, enqueue with deterministic ids. */
  private async round(s: Served, count: number): Promise<void> {
    const id = s.ctx.id;
    const batchNo = await this.redis.hincrby(keys.counters(id), 'proposer_rounds', 1);
    const rng = seededRng(((s.ctx.config.seed * 2654435761) ^ batchNo) >>> 0);
    const refsRaw = await this.redis.zrevrange(keys.taskBuffer(id), 0, 7);
    const references = refsRaw.map((r) => JSON.parse(r) as unknown);
    const proposed: ProposedTask[] = await s.ctx.recipe.propose({
      config: s.ctx.config, references, count, rng,
      policy: s.policy && { vocab: s.ctx.vocab, get version() { return s.policy!.version; }, generate: (p, o) => s.policy!.generate(p, o), score: (q) => s.policy!.score(q) },
    });
    if (proposed.length === 0) return;
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
    const proposedCounter = this.metrics.counter('spar_tasks_proposed_total');
    for (const [i, v] of verdicts.entries()) {
      const p = proposed[i]!;
      if (!v.valid) {
        proposedCounter.inc({ experiment: id, outcome: 'invalid' });
        if (s.rollouts && p.proposal) await this.reportInvalid(s, p, batchNo, i);
        continue;
      }
      const tid = taskId(id, v.canonical);
      if ((await this.redis.zscore(keys.taskSeen(id), tid)) !== null) { proposedCounter.inc({ experiment: id, outcome: 'duplicate' }); continue; }
      const task = JSON.parse(v.task_json) as unknown;
      const envelope: Envelope = {
        experimentId: id, recipe: s.ctx.recipe.name, role: 'proposer', policyVersion: p.proposal?.policyVersion ?? -1,
        taskId: tid, groupId: '', trajectoryId: '', parentIds: [], createdAt: new Date().toISOString(),
      };
      try {
        await enqueue(s.queue, tid, { envelope, task, proposal: p.proposal } satisfies TaskJob);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) { this.metrics.counter('spar_payload_rejected_total').inc({ service: 'proposer', queue: 'tasks' }); continue; }
        throw err;
      }
      proposedCounter.inc({ experiment: id, outcome: 'valid' });
      // The dedupe record keeps the newest SPAR_TASK_SEEN_MAX task ids (bounded, like the buffer).
      await this.redis.multi()
        .zadd(keys.taskSeen(id), Date.now(), tid).zremrangebyrank(keys.taskSeen(id), 0, -this.cfg.SPAR_TASK_SEEN_MAX - 1)
        .zadd(keys.taskBuffer(id), Date.now(), v.task_json).zremrangebyrank(keys.taskBuffer(id), 0, -this.cfg.SPAR_TASK_BUFFER - 1)
        .exec();
    }
  }

  /**
   * Send a proposal whose task was invalid to the judge as a group without rollouts, so it is
   * trained with the recipe's penalty. The group id is unique per (experiment, proposal round,
   * index), so a repeated enqueue is one BullMQ job and a repeated append one stream entry.
   */
  private async reportInvalid(s: Served, p: ProposedTask, round: number, index: number): Promise<void> {
    const gid = groupId(`x-${s.ctx.id}-r${round}-${index}`, 0);
    const envelope: Envelope = {
      experimentId: s.ctx.id, recipe: s.ctx.recipe.name, role: 'proposer', policyVersion: p.proposal?.policyVersion ?? -1,
      taskId: '', groupId: gid, trajectoryId: '', parentIds: [], createdAt: new Date().toISOString(),
    };
    try {
      await enqueue(s.rollouts!, gid, { envelope, task: p.task, proposal: p.proposal, rollouts: [] } satisfies RolloutJob);
      this.metrics.counter('spar_invalid_proposals_reported_total').inc({ experiment: s.ctx.id });
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
