import { join } from 'node:path';
import { keys, policyNames, serviceRoleOf, type ExperimentConfig, type NamedPolicyState, type Trajectory } from '@spar/core';
import { CheckpointError, loadPolicy, Policy, policyWeights, savePolicy, type CheckpointTensor, type PolicyOptions, type StepMetrics } from '@spar/policy';
import type { ExperimentContext, ExperimentLease, Metrics, PolicyPublisher, Redis } from '@spar/service-kit';
import { exportPolicy } from './export-policy.ts';
import { PolicyTrainer, type TrainResult } from './policy-trainer.ts';

/** One policy of the experiment: named (config.policies) or the one unnamed policy. */
export interface Member {
  /** undefined: the experiment's one unnamed policy (no config.policies). */
  readonly name?: string;
  readonly policy: Policy;
  /** Absent for a frozen policy. */
  readonly trainer?: PolicyTrainer;
  /** A frozen policy that takes the named policy's weights at every round start (config.policies.<name>.copies). */
  readonly copies?: string;
}

/** What one learner step did to each policy it trained. */
export interface SetStep {
  readonly results: readonly { readonly member: Member; readonly result: TrainResult }[];
  /** Whether any policy's weights changed (a step that counts). */
  readonly trained: boolean;
}

/** A member's files inside a self-play checkpoint (named policies other than the solver's). */
export const memberDir = (dir: string, name: string) => join(dir, 'policies', name);

/**
 * The policies an experiment trains: one unnamed policy that plays every role (no
 * config.policies, as always), or the named ones, each with its own weights, optimizer, estimator
 * state, KL reference, version stream and publication (`spar:{exp}:policy:<name>`). A batch is
 * split by the service role that generated each sample (config.roles); a frozen policy is
 * published but never trained. The solver's policy is the one evaluated, gated and exported.
 */
export class PolicySet {
  /** Each policy's optimizer step, read once at the start and then from its step results (reading it from the engine copies every weight). */
  private readonly steps = new Map<Member, number>();
  private readonly published = new Set<string>();
  /** Each copying member's source version: the version of the policy it copied when it last took a copy. */
  private readonly copied = new Map<Member, number>();

  private constructor(
    readonly members: readonly Member[], private readonly roles: ExperimentConfig['roles'], steps: readonly number[],
    copied: ReadonlyMap<string, number>,
  ) {
    members.forEach((m, i) => this.steps.set(m, steps[i]!));
    for (const m of members) {
      if (!m.copies) continue;
      // Fresh, every policy starts from the same weights: the copy is of the source as it starts.
      this.copied.set(m, copied.get(m.name!) ?? this.members.find((x) => x.name === m.copies)!.policy.version);
    }
  }

  /**
   * Around `policies` (name → policy, restored or fresh; the unnamed one under ''): a trainer for
   * every policy that is not frozen, with `tensors` (name → checkpoint extras) where restored;
   * `copied`: each restored copying policy's source version (checkpoint metadata).
   */
  static async create(
    config: ExperimentConfig, policies: ReadonlyMap<string, Policy>, segments: readonly string[], runtime: PolicyOptions,
    tensors: ReadonlyMap<string, Readonly<Record<string, CheckpointTensor>>>, copied: ReadonlyMap<string, number> = new Map(),
  ): Promise<PolicySet> {
    const members: Member[] = [];
    try {
      for (const [key, policy] of policies) {
        const name = key === '' ? undefined : key;
        const entry = name !== undefined ? config.policies![name]! : undefined;
        const trainer = entry?.frozen ? undefined : await PolicyTrainer.create(policy, config, segments, runtime, tensors.get(key));
        members.push({ ...(name !== undefined ? { name } : {}), policy, ...(trainer ? { trainer } : {}), ...(entry?.copies ? { copies: entry.copies } : {}) });
      }
    } catch (err) {
      for (const m of members) await (m.trainer ?? m.policy).close();
      for (const [key, p] of policies) if (!members.some((m) => (m.name ?? '') === key)) await p.close();
      throw err;
    }
    const steps: number[] = [];
    for (const m of members) steps.push((await m.policy.state(false)).step);
    return new PolicySet(members, config.roles, steps, copied);
  }

  /** The policy that plays the solver role: evaluated, snapshotted by a league, exported to export/. */
  get solver(): Member {
    const name = this.roles?.solver;
    return this.members.find((m) => m.name === name)!;
  }

  /** A named member. */
  member(name: string): Member {
    return this.members.find((m) => m.name === name)!;
  }

  /**
   * A round starts (config.rounds): every copying policy takes the weights of the policy it copies,
   * as a new version of its own. Returns the members that changed (to publish).
   */
  async takeCopies(): Promise<Member[]> {
    const changed: Member[] = [];
    for (const m of this.members) {
      if (!m.copies) continue;
      const src = this.member(m.copies).policy;
      const s = await src.state(false);
      await m.policy.setState({ params: s.params, step: 0, version: m.policy.version + 1 });
      this.copied.set(m, src.version);
      changed.push(m);
    }
    return changed;
  }

  /** The member that trains on a trajectory (by the service role of its sample). */
  ownerOf(t: Trajectory): Member {
    if (!this.roles) return this.members[0]!;
    const name = this.roles[serviceRoleOf(t.sample.role)] ?? this.roles.solver;
    return this.members.find((m) => m.name === name)!;
  }

  /** The version a trajectory's staleness is measured against: its owner's. */
  versionOf(t: Trajectory): number {
    return this.ownerOf(t).policy.version;
  }

  /** One step: each trained policy on its share of the batch (a policy with no share this time is left as it is). */
  async step(batch: readonly Trajectory[], referenceRefreshEvery: number): Promise<SetStep> {
    const shares = new Map<Member, Trajectory[]>();
    for (const t of batch) {
      const m = this.ownerOf(t);
      if (!m.trainer) continue;
      let list = shares.get(m);
      if (!list) shares.set(m, (list = []));
      list.push(t);
    }
    const results: SetStep['results'][number][] = [];
    for (const m of this.members) {
      const share = shares.get(m);
      if (!share?.length) continue;
      const result = await m.trainer!.step(share, referenceRefreshEvery);
      if (result.metrics && !result.metrics.skipped) this.steps.set(m, result.metrics.step);
      results.push({ member: m, result });
    }
    return { results, trained: results.some((r) => r.result.metrics && !r.result.metrics.skipped) };
  }

  /**
   * Record each policy's weights (fenced), then announce them: every policy not yet published in
   * this run, and those of `changed` (the ones a step just trained).
   */
  async publish(experimentId: string, lease: ExperimentLease, publisher: PolicyPublisher, advertise: string, metrics: Metrics, changed: readonly Member[] = []): Promise<void> {
    for (const m of this.members) {
      const key = m.name ?? '';
      if (this.published.has(key) && !changed.includes(m)) continue;
      const w = await policyWeights(m.policy);
      // A copy says which version of its source it holds: a solver following that very version may use its own answers as the copy's.
      const copyOf = this.copied.get(m);
      await lease.hset(keys.policyOf(experimentId, m.name), { address: advertise, version: String(w.version), sha256: w.sha256, ...(copyOf !== undefined ? { copyOf: String(copyOf) } : {}) });
      publisher.publish(experimentId, w, m.name);
      metrics.gauge('spar_policy_version').set({ service: 'learner', experiment: experimentId, ...(m.name ? { policy: m.name } : {}) }, w.version);
      metrics.gauge('spar_policy_published_bytes').set({ experiment: experimentId, ...(m.name ? { policy: m.name } : {}) }, w.bytes.length);
      this.published.add(key);
    }
  }

  /**
   * A version names one weight set: after a resume from a checkpoint older than what a previous
   * holder published, each policy continues above its published number.
   */
  async continueAbovePublished(redis: Redis, experimentId: string, log: { info: (o: object, msg: string) => void }): Promise<void> {
    for (const m of this.members) {
      const published = await redis.hget(keys.policyOf(experimentId, m.name), 'version');
      if (published === null || Number(published) <= m.policy.version) continue;
      const st = await m.policy.state(true);
      await m.policy.setState({ ...st, version: Number(published) + 1 });
      log.info({ ...(m.name ? { policy: m.name } : {}), step: st.step, version: m.policy.version, published: Number(published) }, 'policy version continues above the last published one');
    }
  }

  /** The experiment's view of its named policies (undefined for the one unnamed policy); `training`: the current phase's policy (config.rounds). */
  view(training?: string): Record<string, NamedPolicyState> | undefined {
    if (!this.roles) return undefined;
    const out: Record<string, NamedPolicyState> = {};
    for (const m of this.members) {
      const copyOf = this.copied.get(m);
      out[m.name!] = {
        version: m.policy.version, step: this.steps.get(m)!, frozen: !m.trainer,
        ...(training !== undefined ? { training: m.name === training } : {}),
        ...(copyOf !== undefined ? { copyOf: { policy: m.copies!, version: copyOf } } : {}),
      };
    }
    return out;
  }

  /**
   * Export every named policy besides the solver's (whose export is export/) to `root`/export-<name>/:
   * the artifacts `<name>Onnx` and `<name>Sha256`.
   */
  async exportOthers(root: string, ctx: ExperimentContext): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const m of this.members) {
      if (m === this.solver || !m.name) continue;
      const e = await exportPolicy(m.policy, join(root, `export-${m.name}`), ctx);
      Object.assign(out, { [`${m.name}Onnx`]: e.model, [`${m.name}Sha256`]: e.sha256 });
    }
    return out;
  }

  /**
   * Save every policy into checkpoint folder `dir`: the solver's at its root (with `metadata` and
   * `extra`: what a checkpoint of one policy holds), each other named one under policies/<name>/.
   */
  async save(dir: string, metadata: Record<string, unknown>, extra: Record<string, CheckpointTensor>): Promise<void> {
    const solver = this.solver;
    await savePolicy(solver.policy, dir, { metadata, extraTensors: { ...extra, ...(await solver.trainer?.checkpointTensors()) } });
    for (const m of this.members) {
      if (m === solver) continue;
      const copyOf = this.copied.get(m);
      await savePolicy(m.policy, memberDir(dir, m.name!), { metadata: { policy: m.name!, ...(copyOf !== undefined ? { copyOf } : {}) }, extraTensors: (await m.trainer?.checkpointTensors()) ?? {} });
    }
  }

  /** Metrics of one policy's step. */
  observe(metrics: Metrics, experimentId: string, member: Member, m: StepMetrics): void {
    const labels = { experiment: experimentId, ...(member.name ? { policy: member.name } : {}) };
    metrics.counter('spar_learner_steps_total').inc({ ...labels, result: m.skipped ? 'skipped' : 'ok' });
    if (m.skipped) return;
    metrics.gauge('spar_learner_loss').set(labels, m.loss);
    metrics.gauge('spar_learner_kl').set(labels, m.kl);
    metrics.gauge('spar_learner_entropy').set(labels, m.entropy);
    metrics.gauge('spar_learner_clip_fraction').set(labels, m.clipFrac);
    metrics.gauge('spar_learner_grad_norm').set(labels, m.gradNorm);
  }

  async close(): Promise<void> {
    for (const m of this.members) await (m.trainer ?? m.policy).close();
  }
}

/** A named policy restored from a checkpoint. */
export interface LoadedMember {
  readonly policy: Policy;
  readonly tensors: Record<string, CheckpointTensor>;
  /** A copying policy's source version when it was saved. */
  readonly copyOf?: number;
}

/**
 * The other named policies of a self-play checkpoint (the solver's is its root): name → loaded
 * policy, its extra tensors and (a copy) its source version. Throws when one is missing.
 */
export async function loadMembers(dir: string, config: ExperimentConfig, runtime: PolicyOptions): Promise<Map<string, LoadedMember>> {
  const out = new Map<string, LoadedMember>();
  try {
    for (const name of policyNames(config)) {
      if (name === config.roles!.solver) continue;
      let loaded;
      try {
        loaded = await loadPolicy(memberDir(dir, name), runtime);
      } catch (err) {
        throw new CheckpointError(`${dir}: policy '${name}' is missing or unreadable (${(err as Error).message})`);
      }
      const copyOf = loaded.metadata.copyOf;
      out.set(name, { policy: loaded.policy, tensors: loaded.extraTensors, ...(typeof copyOf === 'number' ? { copyOf } : {}) });
    }
  } catch (err) {
    for (const { policy } of out.values()) await policy.close();
    throw err;
  }
  return out;
}
