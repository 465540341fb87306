/**
 * Judging a task's group (both recipes): re-validate the task from its payload (the program is
 * re-run; outputs in the payload are ignored), judge every solver answer, and, for absolute-zero,
 * verify the proposal produced this very task and give it the learnability reward.
 *
 * Groups: the solver answers of a task share group = task hash (GRPO compares them); the proposer
 * sample is alone in `<hash>/proposer` (it is compared through its TRR++ segment, not a group).
 * Segments: `${taskType}/solver`, `${taskType}/proposer`.
 *
 * Stats (curriculum health; each a rate over every group of its kind, see JudgedGroup.stats):
 *   solveRate, formatErrorRate   every solver group
 *   ownSolveRate, learnability   groups of a fresh proposal (absolute-zero's own tasks)
 *   replaySolveRate              groups of a task replayed from the buffer
 *   invalidProposal, copyProposal  0/1 on every proposal (valid, invalid or copied)
 *
 * Text mode (`text`: the imported model's codec, warmStart.from: hf; text.ts): the same rules over
 * the model's ids — prompts are chat renderings, answers and drafts are read from tagged text,
 * and nothing is masked (no allowed sets).
 */
import type { Sample } from '@spar/core';
import type { TextCodec, Vocabulary } from '@spar/policy/schema';
import type { CopyKind, JudgedGroup } from '../recipe.ts';
import { isReplay } from './buffer.ts';
import { TaskRejected } from '../errors.ts';
import type { SolverOptions } from './options.ts';
import { checkProposal, checkTextProposal, judgeInvalidProposal, judgeInvalidTextProposal, learnability, proposerTrajectory } from './propose.ts';
import { CHECKER, judgeSolvers, type DecodeSettings } from './solve.ts';
import { checkTask } from './tasks.ts';

const COPY_KINDS: readonly CopyKind[] = ['duplicate', 'reference', 'batch'];

/** absolute-zero's proposer side of judging; absent for rlvr-fixed (no proposer). */
export interface ProposerJudging {
  /** Set when the proposer reports the proposal as a copy (a group with no rollouts). */
  readonly copy?: CopyKind;
  readonly copyPenalty: number;
}

export function judgeDslGroup(raw: unknown, rollouts: readonly unknown[], proposal: Sample | undefined, o: SolverOptions, vocab: Vocabulary, d: DecodeSettings, proposer?: ProposerJudging, text?: TextCodec): JudgedGroup {
  const context = d.context ?? 64;
  if (proposer && rollouts.length === 0 && proposal !== undefined) {
    // A copy: a valid task the proposer did not send to solvers; trained with the copy penalty.
    if (proposer.copy) return judgeCopiedProposal(raw, proposal, proposer.copy, o, vocab, context, proposer.copyPenalty, text);
    // Otherwise a proposal whose task failed validation (AZR's −1).
    return text ? judgeInvalidTextProposal(proposal, o, text) : judgeInvalidProposal(proposal, o, vocab, context);
  }
  const c = checkTask(raw, o);
  if (!c.ok) throw new TaskRejected(`invalid task: ${c.reason}`);
  const checked = proposer && proposal !== undefined
    ? (text ? checkTextProposal(proposal, c.task, c.key, o, text) : checkProposal(proposal, c.task, c.key, o, vocab, context))
    : undefined;
  const s = judgeSolvers(c.task, c.hash, rollouts, o, vocab, d, text);
  const stats: Record<string, number> = { solveRate: s.solveRate, formatErrorRate: s.formatErrorRate };
  const trajectories = [...s.trajectories];
  if (checked) {
    trajectories.push(proposerTrajectory(checked, c.task, c.hash, s.solveRate, o));
    Object.assign(stats, { ownSolveRate: s.solveRate, learnability: learnability(s.solveRate), invalidProposal: 0, copyProposal: 0 });
  } else if (isReplay(raw)) {
    stats.replaySolveRate = s.solveRate;
  }
  return { trajectories, provenance: CHECKER, stats, ...(s.solveRate === 1 ? { solvedKey: c.key } : {}) };
}

/**
 * A valid proposal the proposer found to be a copy: the draft must re-validate to exactly this
 * task (checkProposal); the proposal alone is trained, with `penalty` (0 under 'binary').
 */
function judgeCopiedProposal(raw: unknown, proposal: Sample, copy: CopyKind, o: SolverOptions, vocab: Vocabulary, context: number, penalty: number, text?: TextCodec): JudgedGroup {
  if (!COPY_KINDS.includes(copy)) throw new TaskRejected(`copied proposal: unknown copy kind ${JSON.stringify(copy)?.slice(0, 40)}`);
  const c = checkTask(raw, o);
  if (!c.ok) throw new TaskRejected(`copied proposal: invalid task: ${c.reason}`);
  const sample = text ? checkTextProposal(proposal, c.task, c.key, o, text) : checkProposal(proposal, c.task, c.key, o, vocab, context);
  return {
    provenance: CHECKER,
    stats: { invalidProposal: 0, copyProposal: 1 },
    trajectories: [{
      sample, reward: o.rewardShaping === 'binary' ? 0 : penalty, formatOk: true, correct: false,
      group: `${c.hash}/proposer/copy-${copy}`, segment: `${c.task.type}/proposer`,
    }],
  };
}
