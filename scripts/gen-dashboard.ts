// Generates deploy/grafana/dashboards/spar.json (run: npx tsx scripts/gen-dashboard.ts).
// Panels reference only metrics from the catalog; tests/deploy.test.ts checks that.
import { writeFileSync } from 'node:fs';

export const PANELS: { title: string; exprs: string[]; unit?: string }[] = [
  { title: 'Learner steps / s', exprs: ['sum by (experiment) (rate(spar_learner_steps_total{result="ok"}[1m]))'] },
  { title: 'Policy version', exprs: ['spar_policy_version'] },
  { title: 'Loss', exprs: ['spar_learner_loss'] },
  { title: 'KL / entropy', exprs: ['spar_learner_kl', 'spar_learner_entropy'] },
  { title: 'Clip fraction / grad norm', exprs: ['spar_learner_clip_fraction', 'spar_learner_grad_norm'] },
  { title: 'Eval scores', exprs: ['spar_eval_score'], unit: 'percentunit' },
  { title: 'Queue depth', exprs: ['spar_queue_depth'] },
  { title: 'Oldest waiting job age', exprs: ['spar_queue_oldest_age_seconds'], unit: 's' },
  { title: 'Policy staleness (p50, p95)', exprs: ['histogram_quantile(0.5, sum by (le) (rate(spar_policy_staleness_bucket[5m])))', 'histogram_quantile(0.95, sum by (le) (rate(spar_policy_staleness_bucket[5m])))'] },
  { title: 'Trajectories appended / ingested / dropped', exprs: ['sum(rate(spar_trajectories_appended_total[1m]))', 'sum(rate(spar_trajectories_ingested_total[1m]))', 'sum by (reason) (rate(spar_trajectories_dropped_total[1m]))'] },
  { title: 'Reward by role (mean)', exprs: ['sum by (role) (rate(spar_reward_sum[5m])) / sum by (role) (rate(spar_reward_count[5m]))'] },
  { title: 'Advantage (mean)', exprs: ['sum(rate(spar_advantage_sum[5m])) / sum(rate(spar_advantage_count[5m]))'] },
  { title: 'Judge verdicts', exprs: ['sum by (outcome) (rate(spar_judge_verdicts_total[1m]))'] },
  { title: 'Judge latency p95', exprs: ['histogram_quantile(0.95, sum by (le) (rate(spar_judge_verdict_seconds_bucket[5m])))'], unit: 's' },
  { title: 'Judge invalid tasks / proposer RPC timeouts', exprs: ['sum by (reason) (rate(spar_judge_invalid_tasks_total[5m]))', 'sum(rate(spar_judge_rpc_timeouts_total[5m]))'] },
  { title: 'Proposed tasks by outcome', exprs: ['sum by (outcome) (rate(spar_tasks_proposed_total[1m]))'] },
  { title: 'Solve-rate band', exprs: ['sum by (le) (rate(spar_solve_rate_bucket[5m]))'] },
  { title: 'Idle ratio', exprs: ['spar_idle_ratio'], unit: 'percentunit' },
  { title: 'Admission wait p95 / proposer pauses', exprs: ['histogram_quantile(0.95, sum by (le) (rate(spar_admission_wait_seconds_bucket[5m])))', 'sum by (reason) (rate(spar_proposer_paused_total[1m]))'] },
  { title: 'Generated tokens / s', exprs: ['sum by (service) (rate(spar_generated_tokens_total[1m]))'] },
  { title: 'Weight sync p95', exprs: ['histogram_quantile(0.95, sum by (le, service) (rate(spar_weight_sync_seconds_bucket[5m])))'], unit: 's' },
  { title: 'Bad input', exprs: ['sum by (service, kind) (rate(spar_bad_input_total[5m]))'] },
  { title: 'Weights refused (not the learner\'s recorded sha256)', exprs: ['sum by (service, reason) (rate(spar_weights_rejected_total[5m]))'] },
];

const dashboard = {
  uid: 'spar', title: 'spar', schemaVersion: 39, version: 1, refresh: '10s', time: { from: 'now-1h', to: 'now' },
  panels: PANELS.map((p, i) => ({
    id: i + 1, type: 'timeseries', title: p.title, datasource: { type: 'prometheus', uid: 'spar-prometheus' },
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
    targets: p.exprs.map((expr, k) => ({ refId: String.fromCharCode(65 + k), expr, datasource: { type: 'prometheus', uid: 'spar-prometheus' } })),
  })),
};

if (process.argv[1]?.endsWith('gen-dashboard.ts')) {
  writeFileSync(new URL('../deploy/grafana/dashboards/spar.json', import.meta.url), `${JSON.stringify(dashboard, null, 2)}\n`);
}
