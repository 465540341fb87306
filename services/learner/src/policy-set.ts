import { join } from 'node:path';
import { keys, policyNames, serviceRoleOf, type ExperimentConfig, type NamedPolicyState, type Trajectory } from '@spar/core';
import { CheckpointError, exportOnnx, loadPolicy, Policy, policyWeights, savePolicy, type CheckpointTensor, type PolicyOptions, type StepMetrics, type Vocabulary } from '@spar/policy';
import type { ExperimentLease, Metrics, PolicyPublisher, Redis } from '@spar/service-kit';
import { PolicyTrainer, type TrainResult } from './policy-trainer.ts';

/** One policy of the experiment: named (config.policies) or the one unnamed policy. */
export interface Member {
  /** undefined: the experiment's one unnamed policy (no config.policies). */
  readonly name?: string;
  readonly policy: Policy;
  /** Absent for a frozen policy. */
  readonly trainer?: PolicyTrainer;
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

  private constructor(readonly members: readonly Member[], private readonly roles: ExperimentConfig['roles'], steps: readonly number[]) {
    members.forEach((m, i) => this.steps.set(m, steps[i]!));
  }

  /**
   * Around `policies` (name → policy, restored or fresh; the unnamed one under ''): a trainer for
   * every policy that is not frozen, with `tensors` (name → checkpoint extras) where restored.
   */
  static async create(
    config: ExperimentConfig, policies: ReadonlyMap<string, Policy>, segments: readonly string[], runtime: PolicyOptions,
    tensors: ReadonlyMap<string, Readonly<Record<string, CheckpointTensor>>>,
  ): Promise<PolicySet> {
    const members: Member[] = [];
    try {
      for (const [key, policy] of policies) {
        const name = key === '' ? undefined : key;
        const frozen = name !== undefined && config.policies![name]!.frozen;
        const trainer = frozen ? undefined : await PolicyTrainer.create(policy, config, segments, runtime, tensors.get(key));
        members.push({ ...(name !== undefined ? { name } : {}), policy, ...(trainer ? { trainer } : {}) });
      }
    } catch (err) {
      for (const m of members) await (m.trainer ?? m.policy).close();
      for (const [key, p] of policies) if (!members.some((m) => (m.name ?? '') === key)) await p.close();
      throw err;
    }
    const steps: number[] = [];
    for (const m of members) steps.push((await m.policy.state(false)).step);
    return new PolicySet(members, config.roles, steps);
  }

  /** The policy that plays the solver role: evaluated, snapshotted by a league, exported to export/. */
  get solver(): Member {
    const name = this.roles?.solver;
    return this.members.find((m) => m.name === name)!;
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
      await lease.hset(keys.policyOf(experimentId, m.name), { address: advertise, version: String(w.version), sha256: w.sha256 });
      publisher.publish(experimentId, w, m.name);
      metrics.gauge('spar_policy_version').set({ service: 'learner', experiment: experimentId, ...(m.name ? { policy: m.name } : {}) }, w.version);
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

  /** The experiment's view of its named policies (undefined for the one unnamed policy). */
  view(): Record<string, NamedPolicyState> | undefined {
    if (!this.roles) return undefined;
    const out: Record<string, NamedPolicyState> = {};
    for (const m of this.members) out[m.name!] = { version: m.policy.version, step: this.steps.get(m)!, frozen: !m.trainer };
    return out;
  }

  /**
   * Export every named policy besides the solver's (whose export is export/) to `root`/export-<name>/:
   * the artifacts `<name>Onnx` and `<name>Sha256`.
   */
  async exportOthers(root: string, tokenizer: Vocabulary): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const m of this.members) {
      if (m === this.solver || !m.name) continue;
      const e = await exportOnnx(m.policy, join(root, `export-${m.name}`), { tokenizer });
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
      await savePolicy(m.policy, memberDir(dir, m.name!), { metadata: { policy: m.name! }, extraTensors: (await m.trainer?.checkpointTensors()) ?? {} });
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

/**
 * The other named policies of a self-play checkpoint (the solver's is its root): name → loaded
 * policy and its extra tensors. Throws when one is missing.
 */
export async function loadMembers(dir: string, config: ExperimentConfig, runtime: PolicyOptions): Promise<Map<string, { policy: Policy; tensors: Record<string, CheckpointTensor> }>> {
  const out = new Map<string, { policy: Policy; tensors: Record<string, CheckpointTensor> }>();
  try {
    for (const name of policyNames(config)) {
      if (name === config.roles!.solver) continue;
      let loaded;
      try {
        loaded = await loadPolicy(memberDir(dir, name), runtime);
      } catch (err) {
        throw new CheckpointError(`${dir}: policy '${name}' is missing or unreadable (${(err as Error).message})`);
      }
      out.set(name, { policy: loaded.policy, tensors: loaded.extraTensors });
    }
  } catch (err) {
    for (const { policy } of out.values()) await policy.close();
    throw err;
  }
  return out;
}
