/**
 * Options of the program-DSL recipes (absolute-zero and rlvr-fixed). Both share the solver-side
 * options (what a task may look like, how answers are decoded and rewarded); absolute-zero adds
 * the proposer's, rlvr-fixed the fixed generator's.
 *
 * Token budgets: a solver sees `<bos>` + prompt (≤ maxPromptTokens) and writes an answer of at
 * most maxAnswerTokens symbols plus END, so keep maxPromptTokens + maxAnswerTokens + 1 ≤
 * policy.context (the defaults fit the default context of 64). Rollouts further cap the answer at
 * rollout.maxNewTokens − 1 symbols; drafts are bounded by the context only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_FUEL, MAX_INPUT_TOKENS, MAX_PROGRAM_TOKENS, MAX_VALUE_TOKENS } from '../dsl/index.ts';

const TaskTypeSchema = Type.Union([Type.Literal('deduction'), Type.Literal('abduction'), Type.Literal('induction')]);

const solverProps = {
  taskTypes: Type.Array(TaskTypeSchema, { minItems: 1, uniqueItems: true, default: ['deduction', 'abduction', 'induction'] }),
  fuel: Type.Integer({ minimum: 1, maximum: 100_000, default: DEFAULT_FUEL, description: 'interpreter fuel per run (validation and judging)' }),
  maxProgramTokens: Type.Integer({ minimum: 1, maximum: MAX_PROGRAM_TOKENS, default: 24, description: 'longest program a task (or an induction answer) may have' }),
  solverShown: Type.Integer({ minimum: 1, maximum: 4, default: 3, description: 'induction: (input, output) pairs shown to the solver' }),
  heldOut: Type.Integer({ minimum: 1, maximum: 4, default: 2, description: 'induction: further pairs the answer is also judged on' }),
  maxPromptTokens: Type.Integer({ minimum: 8, maximum: 4096, default: 46, description: 'longest solver prompt (with <bos>); longer tasks are invalid' }),
  maxAnswerTokens: Type.Integer({
    minimum: MAX_INPUT_TOKENS, maximum: MAX_VALUE_TOKENS, default: 17,
    description: 'answer budget (END excluded); tasks whose reference answer is longer are invalid',
  }),
  rewardShaping: Type.Union([Type.Literal('azr'), Type.Literal('binary'), Type.Literal('partial')], {
    default: 'azr',
    description: "azr: solver 1 / −0.5 wrong / −1 format, proposer r or −0.5 when r = 0; binary: 1/0 and r; partial: as azr, but a wrong answer gets −0.5 + 0.5 × the similarity of its output to the expected one (solve rates count exact answers only)",
  }),
  constrain: Type.Boolean({ default: true, description: 'grammar-constrained decoding of answers and drafts' }),
  textAnswerTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: "text mode (warmStart.from: hf): the solver's reply budget (reasoning and <answer>…</answer>) in the model's tokens, eos included (default 256); also the held-out evaluation's" })),
};

export const AzrOptionsSchema = Type.Object({
  ...solverProps,
  references: Type.Integer({
    minimum: 0, maximum: 8, default: 6,
    description: "K reference tasks in a proposer prompt, drawn uniformly from the task type's whole buffer; fewer when they do not fit policy.context (AZR: 6)",
  }),
  seedTasks: Type.Integer({
    minimum: 0, maximum: 4096, default: 64,
    description: 'generator tasks per task type pinned in the buffer before self-play (never evicted; never held-out); 0: the identity task alone',
  }),
  difficultyOfSeed: Type.Integer({ minimum: 1, maximum: 3, default: 2, description: 'seed tasks are drawn uniformly over difficulties 1..difficultyOfSeed' }),
  copyPenalty: Type.Number({
    minimum: -1, maximum: 0, default: -1,
    description: "proposer reward of a copy: a valid proposal whose task was proposed before, or whose program is a reference's or an earlier batch-mate's (0 under 'binary')",
  }),
  inductionProposes: Type.Union([Type.Literal('inputs'), Type.Literal('program')], {
    default: 'inputs',
    description: "induction proposals: 'inputs' (AZR) — the proposer is given a program drawn from the buffer and writes its inputs; 'program' — it writes program and inputs",
  }),
  replayShare: Type.Number({
    minimum: 0, maximum: 0.9, default: 0.25,
    description: 'share of each proposal round drawn uniformly from the task buffer for the solver to replay (tasks it solved in every answer left out)',
  }),
  textProposeTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: "text mode (warmStart.from: hf): the proposer's reply budget (reasoning, <program> and <input>s) in the model's tokens, eos included (default 256)" })),
}, { additionalProperties: false });
export type AzrOptions = Static<typeof AzrOptionsSchema>;

export const RlvrOptionsSchema = Type.Object({
  ...solverProps,
  difficulties: Type.Array(Type.Integer({ minimum: 1, maximum: 3 }), { minItems: 1, uniqueItems: true, default: [1, 2, 3] }),
}, { additionalProperties: false });
export type RlvrOptions = Static<typeof RlvrOptionsSchema>;

/** What the solver side (validation, rollout, judging, evaluation) reads: common to both recipes. */
export type SolverOptions = Pick<AzrOptions, keyof typeof solverProps>;
