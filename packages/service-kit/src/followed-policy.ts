import { keys } from '@spar/core';
import { applyWeights, Policy, type GenerateOptions, type GenerateResult, type ModelConfigInput, type Vocabulary } from '@spar/policy';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GrpcTls } from './grpc-tls.ts';
import type { Metrics } from './metrics.ts';
import { PolicyFollower, WeightHashError, type PolicyRecord } from './policy-sync.ts';

export interface FollowedPolicyDeps {
  readonly redis: Redis;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** onnxruntime intra-op threads of the copy. */
  readonly threads?: number;
  /** Shared gRPC token (SPAR_GRPC_TOKEN). */
  readonly grpcToken?: string;
  /** gRPC TLS settings (SPAR_GRPC_TLS_*). */
  readonly grpcTls?: GrpcTls;
}

/** The learner's record `{address, version, sha256}` of the experiment's policy (`policy`: a named one), or undefined before its first publish. */
export async function readPolicyRecord(redis: Redis, experimentId: string, policy?: string): Promise<PolicyRecord | undefined> {
  const h = await redis.hgetall(keys.policyOf(experimentId, policy));
  if (!h.address || !h.sha256 || !/^\d+$/.test(h.version ?? '')) return undefined;
  return { address: h.address, version: Number(h.version), sha256: h.sha256 };
}

/**
 * A worker's copy of an experiment's policy, kept on the learner's latest published version
 * (WatchPolicy + GetPolicy; installed only when its sha256 equals the learner's Redis record for
 * that version; swapped between generations).
 */
export class FollowedPolicy {
  private readonly follower: PolicyFollower;
  private closed?: Promise<void>;
  private firstWeights: Promise<void>;
  private resolveFirst!: () => void;
  // Weights are swapped only between generations, never in the middle of one.
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private applying?: Promise<void>;
  private versionWaiters: { version: number; resolve: () => void }[] = [];
  private readonly countTokens: (n: number) => void;

  private constructor(readonly experimentId: string, private readonly policy: Policy, readonly vocab: Vocabulary, d: FollowedPolicyDeps, readonly policyName?: string) {
    this.firstWeights = new Promise((r) => { this.resolveFirst = r; });
    const { redis, logger, metrics } = d;
    const service = metrics.service;
    const labels = { service, experiment: experimentId, ...(policyName ? { policy: policyName } : {}) };
    this.countTokens = (n) => metrics.counter('spar_generated_tokens_total').inc({ service, experiment: experimentId }, n);
    this.follower = new PolicyFollower({
      experimentId,
      ...(policyName ? { policy: policyName } : {}),
      record: () => readPolicyRecord(redis, experimentId, policyName),
      logger,
      token: d.grpcToken,
      tls: d.grpcTls,
      onWeights: async (w) => {
        const t0 = performance.now();
        this.applying = (async () => {
          while (this.active > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
          await applyWeights(this.policy, w);
        })();
        try {
          await this.applying;
        } finally {
          this.applying = undefined;
        }
        metrics.histogram('spar_weight_sync_seconds').observe({ service }, (performance.now() - t0) / 1000);
        metrics.counter('spar_weight_sync_total').inc({ service, result: 'ok' });
        metrics.gauge('spar_policy_version').set(labels, w.version);
        this.resolveFirst();
        this.versionWaiters = this.versionWaiters.filter((x) => (x.version <= this.policy.version ? (x.resolve(), false) : true));
      },
      onError: (err) => {
        if (err instanceof WeightHashError) {
          metrics.counter('spar_weights_rejected_total').inc({ service, reason: err.against === 'record' ? 'record_mismatch' : 'hash_mismatch' });
        }
        metrics.counter('spar_weight_sync_total').inc({ service, result: err instanceof WeightHashError ? 'rejected' : 'error' });
        logger.warn({ err: err.message, experimentId, ...(policyName ? { policy: policyName } : {}) }, err instanceof WeightHashError ? 'weights refused' : 'weight sync failed');
      },
    });
  }

  /** A copy following the experiment's policy (`policyName`: one of its named policies). */
  static async create(experimentId: string, model: ModelConfigInput, vocab: Vocabulary, d: FollowedPolicyDeps, policyName?: string): Promise<FollowedPolicy> {
    const policy = await Policy.create(model, { worker: true, threads: d.threads, spinning: false });
    const f = new FollowedPolicy(experimentId, policy, vocab, d, policyName);
    f.follower.start();
    return f;
  }

  /** Resolves once the first published version has been applied. */
  ready(): Promise<void> {
    return this.firstWeights;
  }

  get version(): number {
    return this.policy.version;
  }

  /**
   * Resolves true once this copy holds `version` or newer, false after `timeoutMs` (the learner
   * published it but the swap has not happened yet, e.g. the follower is reconnecting).
   */
  async waitForVersion(version: number, timeoutMs: number): Promise<boolean> {
    if (this.policy.version >= version) return true;
    let timer: NodeJS.Timeout | undefined;
    let entry: { version: number; resolve: () => void } | undefined;
    const reached = new Promise<boolean>((resolve) => { entry = { version, resolve: () => resolve(true) }; this.versionWaiters.push(entry); });
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    try {
      return await Promise.race([reached, timeout]);
    } finally {
      clearTimeout(timer);
      this.versionWaiters = this.versionWaiters.filter((x) => x !== entry);
    }
  }

  /** Run `fn` on the weights while no swap can start (swaps happen only between uses). */
  private async use<T>(fn: () => Promise<T>): Promise<T> {
    while (this.applying) await this.applying.catch(() => undefined);
    this.active++;
    try {
      return await fn();
    } finally {
      if (--this.active === 0) this.idleWaiters.splice(0).forEach((f) => f());
    }
  }

  /** Generate under the current weights (never during a swap); the tokens count towards spar_generated_tokens_total. */
  async generate(prompts: readonly ArrayLike<number>[], opts: GenerateOptions): Promise<GenerateResult> {
    const res = await this.use(() => this.policy.generate(prompts, opts));
    this.countTokens(res.rows.reduce((n, r) => n + r.tokens.length, 0));
    return res;
  }

  /** Score sequences under the current weights, guarded like generate (never during a swap). */
  score(...args: Parameters<Policy['score']>): ReturnType<Policy['score']> {
    return this.use(() => this.policy.score(...args)) as ReturnType<Policy['score']>;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.follower.close();
      await this.policy.close();
    })();
    return this.closed;
  }
}

export { OpponentPool, parsePool, sample as samplePool, type Loan, type OpponentPoolOptions, type PoolSnapshot } from './opponent-pool.ts';
export { Labeler } from './labeler.ts';
