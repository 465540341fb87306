/**
 * absolute-zero: the policy proposes programs + inputs in the DSL (deduction / abduction /
 * induction), the judge validates them by execution (parses, terminates within fuel,
 * deterministic, within the size limits), the policy solves them, the executor judges the
 * answers. Solver reward: exact match with AZR's shaping; proposer reward: learnability
 * 1 − solve rate (0 at 0 or 1; −0.5 under 'azr' shaping). Learner default: TRR++ with segments
 * `${type}/${role}` (baselines per task type and role, as AZR).
 *
 * Task flow: propose() → { type, draft } + the proposer Sample; validateTask() re-validates the
 * draft and returns the wire task (outputs executed by the judge) → solvers get the wire task;
 * judge() re-validates it again, checks the proposal produced it, judges G answers. A proposal
 * the judge found invalid comes back as a group with no rollouts: −1 (AZR), 0 under 'binary'.
 *
 * Text mode (textMode; PolicyHandle.text present, warmStart.from: hf; text.ts): the same game
 * played by an imported chat model in its own tokens, without grammar masks: AZR-style chat
 * prompts, the proposal in `<program>…</program>` / `<input>…</input>`, the answer in the last
 * `<answer>…</answer>`, budgets textProposeTokens and textAnswerTokens.
 */
import type { Recipe } from '../recipe.ts';
import { promptFitIssues } from '../text-reply.ts';
import { dslPromptFits } from './text.ts';
import { AZR_VOCABULARY, dslRollout, dslValidity } from './common.ts';
import { dslSuites, evaluateDsl } from './eval.ts';
import { judgeDslGroup } from './judge.ts';
import { decodeOf } from './solve.ts';
import { AzrOptionsSchema, type AzrOptions } from './options.ts';
import { proposeDrafts } from './propose.ts';
import { dslWarmStart } from './warm-start.ts';
import { dslHeldOut } from './held-out.ts';
import { dslNovelty, dslSeedTasks, replayLabel } from './buffer.ts';

export const absoluteZero: Recipe<AzrOptions> = {
  name: 'absolute-zero',
  description: 'Absolute Zero: the policy proposes DSL programs + inputs (deduction/abduction/induction) and solves them; executor-verified; learnability reward; TRR++',
  optionsSchema: AzrOptionsSchema,
  proposesWithPolicy: true,
  trainsInvalidProposals: true,
  textMode: true,
  defaultEstimator: { kind: 'trr++' },
  vocabulary: () => [AZR_VOCABULARY],
  segments: (o) => o.taskTypes.flatMap((t) => [`${t}/proposer`, `${t}/solver`]),
  propose: (ctx) => proposeDrafts(ctx),
  validateTask: (task, o) => dslValidity(task, o),
  rollout: (ctx, task, groupSize) => dslRollout(ctx, task, groupSize),
  judge: (task, rollouts, proposal, o, vocab, config, copy, text) => judgeDslGroup(task, rollouts, proposal, o, vocab, decodeOf(config), { copy, copyPenalty: o.copyPenalty }, text),
  trainsCopies: true,
  novelty: (task, o) => dslNovelty(task, o),
  heldOut: (config) => dslHeldOut(config),
  textPromptIssues: (config, codec, context) => promptFitIssues(dslPromptFits(config, codec, true), context),
  seedTasks: (config, seed, excluded) => dslSeedTasks(config, seed, excluded),
  replayShare: (o) => o.replayShare,
  replayTask: (task) => replayLabel(task),
  evalSuites: (o) => dslSuites(o),
  evaluate: (policy, suites, opts, o) => evaluateDsl(policy, suites, opts, o),
  warmStartExamples: (config, vocab, seed, excluded) => dslWarmStart(config, vocab, seed, excluded),
};
