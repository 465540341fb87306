/**
 * Judging a task's group (both recipes): re-validate the task from its payload (the program is
 * re-run; outputs in the payload are ignored), judge every solver answer, and, for absolute-zero,
 * verify the proposal produced this very task and give it the learnability reward.
 *
 * Groups: the solver answers of a task share group = task hash (GRPO compares them); the proposer
 * sample is alone in `<hash>/proposer` (it is compared through its TRR++ segment, not a group).
 * Segments: `${taskType}/solver`, `${taskType}/proposer`.
 */
import type { Sample } from '@spar/core';
import type { Vocabulary } from '@spar/policy/schema';
import type { JudgedGroup } from '../recipe.ts';
import { AzrRejected } from './errors.ts';
import type { SolverOptions } from './options.ts';
import { checkProposal, judgeInvalidProposal, learnability, proposerTrajectory } from './propose.ts';
import { CHECKER, judgeSolvers, type DecodeSettings } from './solve.ts';
import { checkTask } from './tasks.ts';

export function judgeDslGroup(raw: unknown, rollouts: readonly unknown[], proposal: Sample | undefined, o: SolverOptions, vocab: Vocabulary, d: DecodeSettings, withProposer: boolean): JudgedGroup {
  const context = d.context ?? 64;
  // No rollouts: the proposer reports a proposal whose task failed validation (AZR's −1).
  if (withProposer && rollouts.length === 0 && proposal !== undefined) return judgeInvalidProposal(proposal, o, vocab, context);
  const c = checkTask(raw, o);
  if (!c.ok) throw new AzrRejected(`invalid task: ${c.reason}`);
  const proposer = withProposer && proposal !== undefined ? checkProposal(proposal, c.task, c.key, o, vocab, context) : undefined;
  const s = judgeSolvers(c.task, c.hash, rollouts, o, vocab, d);
  const stats: Record<string, number> = { solveRate: s.solveRate, formatErrorRate: s.formatErrorRate };
  const trajectories = [...s.trajectories];
  if (proposer) {
    trajectories.push(proposerTrajectory(proposer, c.task, c.hash, s.solveRate, o));
    stats.learnability = learnability(s.solveRate);
  }
  return { trajectories, provenance: CHECKER, stats };
}
