import { join } from 'node:path';
import { keys, type ExperimentRecord } from '@spar/core';
import type { RecipeRegistry } from '@spar/recipes';
import {
  readGrpcTls, ExperimentStore, IdleTracker, LeaseLostError, PolicyPublisher, sparProto, startGrpcServer, type Claim, type GrpcServerHandle, type Logger, type Metrics, type Redis,
} from '@spar/service-kit';
import type { LearnerConfig } from './config.ts';
import { runExperiment } from './run.ts';

/**
 * The learner process: serves PolicyService, claims one experiment at a time (a Redis lease with a
 * fencing token), trains it, and on SIGTERM finishes the current step, checkpoints and releases
 * the lease. A learner that finds its lease taken (paused past it while a standby claimed the
 * experiment) writes nothing more and calls `onFenced`: its in-memory state is not the run's.
 */
export class LearnerService {
  readonly publisher = new PolicyPublisher();
  private grpc?: GrpcServerHandle;
  private stopping = false;
  private loop?: Promise<void>;
  private current?: string;
  private readonly idle = new IdleTracker();
  private idleTimer?: NodeJS.Timeout;
  private closed?: Promise<void>;

  constructor(
    private readonly cfg: LearnerConfig, private readonly redis: Redis, private readonly recipes: RecipeRegistry, private readonly logger: Logger,
    private readonly metrics: Metrics, private readonly onFenced: (experimentId: string) => void = () => undefined,
  ) {}

  get grpcPort(): number | undefined {
    return this.grpc?.port;
  }

  get experiment(): string | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    const { PolicyService } = sparProto();
    this.grpc = await startGrpcServer(`${this.cfg.SPAR_GRPC_HOST}:${this.cfg.SPAR_GRPC_PORT}`, [
      { name: 'spar.v1.PolicyService', definition: PolicyService.service, impl: this.publisher.implementation() },
    ], { token: this.cfg.SPAR_GRPC_TOKEN, tls: readGrpcTls(this.cfg), insecure: this.cfg.SPAR_INSECURE, logger: this.logger });
    this.idleTimer = setInterval(() => this.metrics.gauge('spar_idle_ratio').set({ service: 'learner' }, this.idle.ratio()), 1000);
    this.idleTimer.unref();
    this.loop = this.claimLoop();
  }

  private async claimLoop(): Promise<void> {
    const store = new ExperimentStore(this.redis);
    const advertise = `${this.cfg.SPAR_ADVERTISE_HOST}:${this.grpc!.port}`;
    while (!this.stopping) {
      let claim;
      try {
        claim = await store.claim(this.cfg.SPAR_LEARNER_ID, this.cfg.SPAR_LEASE_MS);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'claim failed');
      }
      if (!claim) {
        this.idle.idle();
        await new Promise((r) => setTimeout(r, this.cfg.SPAR_POLL_MS));
        continue;
      }
      await this.train(claim, store, advertise);
    }
  }

  /** Train one claimed experiment until its run ends; then release it, or stop this learner when fenced out. */
  private async train({ record: rec, lease }: Claim, store: ExperimentStore, advertise: string): Promise<void> {
    const log = this.logger.child({ experimentId: rec.id });
    lease.startRenewing(this.cfg.SPAR_LEASE_MS, () => {
      this.metrics.counter('spar_learner_lease_reclaimed_total').inc({ experiment: rec.id });
      log.warn({ fence: lease.token }, 'lease lapsed (renewals stalled) and re-claimed: no other learner had taken it');
    });
    this.current = rec.id;
    log.info({ fence: lease.token }, 'experiment claimed');
    let fenced = false;
    try {
      const end = await runExperiment(rec, {
        cfg: this.cfg, redis: this.redis, lease, recipes: this.recipes, publisher: this.publisher, advertise, logger: this.logger,
        metrics: this.metrics, idle: this.idle, stopping: () => this.stopping,
      });
      fenced = end === 'lease-lost';
      log.info({ end }, 'experiment run ended');
    } catch (err) {
      // Any error once the lease is gone (e.g. the record vanished with Redis' data) is the lease's.
      if (err instanceof LeaseLostError || !(await lease.held().catch(() => true))) fenced = true;
      else {
        log.error({ err }, 'experiment failed');
        // Fenced too: a learner that lost its lease cannot fail the run the new holder is training.
        await store.transition(rec.id, 'failed', { reason: (err as Error).message.slice(0, 500) }, lease).catch(() => undefined);
      }
    } finally {
      await lease.release().catch(() => undefined);
      this.metrics.forgetExperimentLater(rec.id);
      this.current = undefined;
    }
    if (fenced) await this.fencedOut(rec, lease.token, log);
  }

  /**
   * The lease is gone. No fencing counter at all: Redis lost the experiment's state (restarted
   * without persistence, flushed), not a takeover — say so in a failed record rather than let the
   * run vanish. Otherwise another learner took it: this one wrote nothing more and stops.
   */
  private async fencedOut(rec: ExperimentRecord, token: number, log: Logger): Promise<void> {
    if ((await this.redis.exists(keys.fence(rec.id)).catch(() => 1)) === 0) {
      const reason = `Redis lost this experiment's state (restarted without persistence?); its checkpoints are in ${join(this.cfg.SPAR_DATA_DIR, rec.id)}`;
      const now = new Date().toISOString();
      await this.redis.hsetnx(keys.experiments, rec.id, JSON.stringify({ ...rec, state: 'failed', reason, finishedAt: now }))
        .catch((err) => log.warn({ err }, 'could not record the failure'));
      log.error({ reason }, 'experiment state lost');
      return;
    }
    log.error({ fence: token }, 'lease lost to another learner: this learner wrote nothing more and stops');
    this.metrics.counter('spar_learner_lease_lost_total').inc({ experiment: rec.id });
    this.stopping = true;
    this.onFenced(rec.id);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping = true;
      if (this.idleTimer) clearInterval(this.idleTimer);
      await this.loop;
      this.publisher.release();
      await this.grpc?.close();
    })();
    return this.closed;
  }
}
