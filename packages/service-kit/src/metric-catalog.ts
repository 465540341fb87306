/**
 * Every metric spar exports, with its meaning. docs/metrics.md is generated from this list and a
 * test keeps them in sync; services can only create metrics that are listed here.
 */
export interface MetricDef {
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
  /** Services that export it. */
  readonly services: readonly string[];
}

const LAT = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const UNIT = [-2, -1, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.5, 2];

export const METRIC_CATALOG: Record<string, MetricDef> = {
  // queues and transport
  spar_queue_depth: { type: 'gauge', help: 'Jobs waiting in a queue (waiting + delayed), or entries not yet read from a stream', labels: ['experiment', 'queue'], services: ['controller'] },
  spar_queue_oldest_age_seconds: { type: 'gauge', help: 'Age of the oldest waiting job in a queue', labels: ['experiment', 'queue'], services: ['controller'] },
  spar_jobs_total: { type: 'counter', help: 'Jobs processed by a worker, by outcome (ok, failed, retried)', labels: ['service', 'queue', 'outcome'], services: ['proposer', 'solver', 'judge'] },
  spar_payload_rejected_total: { type: 'counter', help: 'Payloads refused at the producer because they exceed the size cap', labels: ['service', 'queue'], services: ['proposer', 'solver', 'judge'] },
  // proposer
  spar_tasks_proposed_total: { type: 'counter', help: 'Proposed tasks by outcome: valid, invalid, copy (trained with the copy penalty), duplicate (dropped: recipes that do not train copies), held_out (dropped untrained: decontamination)', labels: ['experiment', 'outcome'], services: ['proposer'] },
  spar_tasks_excluded_total: { type: 'counter', help: 'Training tasks left out because they pose a held-out evaluation prompt (decontamination), by source: generator, proposal, seed, replay, warm_start, judge (a task that slipped past its source)', labels: ['recipe', 'source', 'reason'], services: ['proposer', 'judge', 'learner'] },
  spar_tasks_replayed_total: { type: 'counter', help: 'Buffer tasks posed again to the solvers (solver replay)', labels: ['experiment'], services: ['proposer'] },
  spar_invalid_proposals_reported_total: { type: 'counter', help: 'Invalid proposals forwarded to the judge to be trained with the recipe penalty (absolute-zero: -1)', labels: ['experiment'], services: ['proposer'] },
  spar_proposer_paused_total: { type: 'counter', help: 'Times the proposer paused (backpressure): reason queue (the tasks queue holds rollout.maxQueuedTasks) or admission (the admission budget is spent and the queue holds enough for the solvers)', labels: ['experiment', 'reason'], services: ['proposer'] },
  spar_judge_rpc_seconds: { type: 'histogram', help: 'ValidateTasks round-trip latency seen by the proposer', labels: ['outcome'], buckets: LAT, services: ['proposer'] },
  spar_judge_rpc_timeouts_total: { type: 'counter', help: 'ValidateTasks calls that missed their deadline', labels: [], services: ['proposer'] },
  // solver
  spar_rollouts_total: { type: 'counter', help: 'Rollout groups produced', labels: ['experiment'], services: ['solver'] },
  spar_admission_wait_seconds: { type: 'histogram', help: 'Time a solver waited for an admission token before generating a group (staleness-aware admission)', labels: ['experiment'], buckets: LAT, services: ['solver'] },
  spar_admission_sync_timeouts_total: { type: 'counter', help: 'Admitted groups generated with an older policy copy because the newest published weights did not arrive within SPAR_SYNC_WAIT_MS', labels: ['experiment'], services: ['solver'] },
  spar_idle_ratio: { type: 'gauge', help: 'Fraction of the last minute a worker or the learner spent waiting for work', labels: ['service'], services: ['solver', 'learner'] },
  // judge
  spar_judge_verdict_seconds: { type: 'histogram', help: 'Time to judge one group', labels: ['recipe'], buckets: LAT, services: ['judge'] },
  spar_judge_verdicts_total: { type: 'counter', help: 'Judged trajectories by outcome (correct, wrong, format_error)', labels: ['recipe', 'role', 'outcome'], services: ['judge'] },
  spar_judge_timeouts_total: { type: 'counter', help: 'Judge or validation runs terminated for exceeding the executor time limit (SPAR_JUDGE_TIMEOUT_MS)', labels: ['recipe'], services: ['judge'] },
  spar_judge_sandbox_failures_total: { type: 'counter', help: 'Sandbox calls that failed because their thread died (crashed, e.g. out of SPAR_SANDBOX_HEAP_MB) or the wait queue was full (busy)', labels: ['recipe', 'reason'], services: ['judge'] },
  spar_judge_validated_tasks_total: { type: 'counter', help: 'Tasks this judge replica checked in ValidateTasks calls (valid or not); per replica it shows how the proposers spread calls', labels: ['recipe'], services: ['judge'] },
  spar_judge_invalid_tasks_total: { type: 'counter', help: 'Tasks the judge found invalid, by reason', labels: ['recipe', 'reason'], services: ['judge'] },
  spar_judge_stat: { type: 'gauge', help: 'Latest judge-side measurement (e.g. pseudo-label accuracy, solve rate); never a reward', labels: ['experiment', 'stat'], services: ['judge'] },
  spar_solve_rate: { type: 'histogram', help: 'Per-task solve rate of a group (the proposer band)', labels: ['recipe'], buckets: [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1], services: ['judge'] },
  spar_reward: { type: 'histogram', help: 'Reward distribution by role', labels: ['recipe', 'role'], buckets: UNIT, services: ['judge'] },
  spar_trajectories_appended_total: { type: 'counter', help: 'Trajectories appended to the experience stream', labels: ['experiment'], services: ['judge'] },
  spar_trajectories_duplicate_total: { type: 'counter', help: 'Re-delivered groups whose trajectories were already appended (dropped)', labels: ['experiment'], services: ['judge'] },
  // learner
  spar_warmstart_steps_total: { type: 'counter', help: 'Supervised warm-start steps (warmStart.from: sft; skipped: non-finite, rejected)', labels: ['experiment', 'result'], services: ['learner'] },
  spar_warmstart_step_seconds: { type: 'histogram', help: 'Wall time of one supervised warm-start step', labels: [], buckets: LAT, services: ['learner'] },
  spar_warmstart_loss: { type: 'gauge', help: 'Latest warm-start cross-entropy (mean over answer tokens)', labels: ['experiment'], services: ['learner'] },
  spar_warmstart_progress: { type: 'gauge', help: 'Warm-start stage progress: steps taken / warmStart.steps (1 when the stage is done)', labels: ['experiment'], services: ['learner'] },
  spar_learner_steps_total: { type: 'counter', help: 'Learner optimizer steps (skipped: non-finite, rejected)', labels: ['experiment', 'result', 'policy'], services: ['learner'] },
  spar_learner_lease_reclaimed_total: { type: 'counter', help: 'Times a learner whose lease lapsed (renewals stalled) took it back under the same fencing token because no other learner had claimed it', labels: ['experiment'], services: ['learner'] },
  spar_learner_lease_lost_total: { type: 'counter', help: 'Experiments this learner stopped training because another learner claimed the lease (fenced: nothing more written)', labels: ['experiment'], services: ['learner'] },
  spar_learner_step_seconds: { type: 'histogram', help: 'Wall time of one learner step (estimator + train graph)', labels: [], buckets: LAT, services: ['learner'] },
  spar_learner_loss: { type: 'gauge', help: 'Latest training loss', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_learner_kl: { type: 'gauge', help: 'Latest token-mean k3 KL to the reference policy', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_learner_entropy: { type: 'gauge', help: 'Latest token-mean policy entropy (nats)', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_learner_clip_fraction: { type: 'gauge', help: 'Latest fraction of tokens whose PPO ratio was clipped', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_learner_grad_norm: { type: 'gauge', help: 'Latest global gradient norm (before clipping)', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_advantage: { type: 'histogram', help: 'Advantage distribution', labels: ['experiment', 'policy'], buckets: [-3, -2, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 2, 3], services: ['learner'] },
  spar_curriculum: { type: 'gauge', help: 'Curriculum health over the latest learner batch: the mean of each judge stat over the groups carrying it (ownSolveRate, learnability, invalidProposal, copyProposal, replaySolveRate, solveRate, ...) and proposerNonZeroAdvantage, the share of proposer rows with a non-zero advantage', labels: ['experiment', 'stat'], services: ['learner'] },
  spar_zero_variance_groups_total: { type: 'counter', help: 'Groups or segments with zero reward variance (handled by the estimator rule)', labels: ['experiment'], services: ['learner'] },
  spar_trajectories_ingested_total: { type: 'counter', help: 'Trajectories folded into a learner step', labels: ['experiment'], services: ['learner'] },
  spar_trajectories_dropped_total: { type: 'counter', help: 'Trajectories dropped by the learner, by reason (stale, duplicate, invalid; frozen: a policy held fixed in the current phase of config.rounds)', labels: ['experiment', 'reason'], services: ['learner'] },
  spar_policy_staleness: { type: 'histogram', help: 'Policy-version lag of ingested samples (learner version − behaviour version)', labels: [], buckets: [0, 1, 2, 3, 4, 6, 8, 16, 32], services: ['learner'] },
  spar_policy_published_bytes: { type: 'gauge', help: 'Size of the newest published weights (what every worker fetches per version): all parameters, or with policy.lora the adapters only', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_policy_version: { type: 'gauge', help: 'Policy version held (learner: published; workers: in use); `policy` names a named policy (config.policies), absent for the unnamed one', labels: ['service', 'experiment', 'policy'], services: ['learner', 'proposer', 'solver'] },
  spar_checkpoints_total: { type: 'counter', help: 'Checkpoints written', labels: ['experiment'], services: ['learner'] },
  spar_eval_score: { type: 'gauge', help: 'Latest held-out evaluation score', labels: ['experiment', 'suite', 'metric'], services: ['learner'] },
  spar_league_rating: { type: 'gauge', help: 'Elo rating (the recipe\'s first anchor = 0) of the league\'s best policy and of its latest snapshot (config.league)', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_league_exploitability: { type: 'gauge', help: 'Exact exploitability (chips per hand) of the best and of the latest snapshot, with league.gating.by: exploitability', labels: ['experiment', 'policy'], services: ['learner'] },
  spar_league_best_version: { type: 'gauge', help: 'Policy version of the league\'s best policy (the snapshot that last passed the gate)', labels: ['experiment'], services: ['learner'] },
  spar_league_gates_total: { type: 'counter', help: 'Snapshots gated against the best, by result (promoted, kept)', labels: ['experiment', 'result'], services: ['learner'] },
  spar_league_gate_seconds: { type: 'histogram', help: 'Wall time of one snapshot: its rated matches (anchors, the best) and, when promoted, its held-out evaluation', labels: [], buckets: LAT, services: ['learner'] },
  spar_opponent_games_total: { type: 'counter', help: 'Training episodes played against a pool snapshot (config.league.opponents), by sampling', labels: ['experiment', 'sampling'], services: ['solver'] },
  spar_labeled_groups_total: { type: 'counter', help: 'Groups labelled by config.roles.labeler, by how: own (the labeler holds the solver\'s very weights, so the group\'s answers are its votes) or separate (the labeler answered the question too)', labels: ['experiment', 'how'], services: ['solver'] },
  // weight sync
  spar_weight_sync_seconds: { type: 'histogram', help: 'Time to fetch, verify and swap a published policy version', labels: ['service'], buckets: LAT, services: ['proposer', 'solver'] },
  spar_weight_sync_total: { type: 'counter', help: 'Weight swaps by result (ok, rejected, error)', labels: ['service', 'result'], services: ['proposer', 'solver'] },
  spar_generated_tokens_total: { type: 'counter', help: 'Tokens generated by the service\'s copies of the experiment\'s policies (prompts excluded): rate() is its generation throughput in tokens/s', labels: ['service', 'experiment'], services: ['proposer', 'solver'] },
  spar_weights_rejected_total: { type: 'counter', help: 'Weights refused, never installed: record_mismatch (sha256 is not the one the learner recorded in Redis for that version), hash_mismatch (bytes do not match the sender\'s own announcement)', labels: ['service', 'reason'], services: ['proposer', 'solver'] },
  // controller
  spar_http_requests_total: { type: 'counter', help: 'HTTP requests by route and status code', labels: ['method', 'route', 'status'], services: ['controller'] },
  spar_experiments: { type: 'gauge', help: 'Experiments by lifecycle state', labels: ['state'], services: ['controller'] },
  spar_bad_input_total: { type: 'counter', help: 'Rejected inputs by kind (invalid_config, too_large, malformed_grpc, bad_task, ...)', labels: ['service', 'kind'], services: ['controller', 'proposer', 'solver', 'judge', 'learner'] },
};
