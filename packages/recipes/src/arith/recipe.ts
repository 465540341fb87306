import type { Sample } from '@spar/core';
import { EOS_ID, type GenerateOptions, type TextCodec, type Vocabulary } from '@spar/policy/schema';
import type { JudgedGroup, PolicyHandle, ProposedTask, Recipe } from '../recipe.ts';
import { TaskRejected } from '../errors.ts';
import { ARITH_SUITES, evaluateArith } from './eval.ts';
import { judgeArith, type AnswerRecord } from './judge.ts';
import { answerMask, DEFAULT_CONTEXT, questionMask } from './masks.ts';
import { ARITH_SPECIALS, ARITH_SYMBOLS } from './symbols.ts';
import {
  answerBudget, challengerPrompt, normaliseTask, questionBudget, referenceQuestions, RZeroOptionsSchema, solverPrompt,
  validateArithTask, type ArithTask, type RZeroOptions,
} from './task.ts';
import { arithWarmStart } from './warm-start.ts';
import { promptFitIssues } from '../text-reply.ts';
import { answerTokens, arithPromptFits, parseTaggedQuestion, questionTokens, replyText, textChallengerPrompt, textSolverPrompt } from './text.ts';
import { arithHeldOut } from './held-out.ts';

export const SEGMENTS = ['challenger', 'solver'] as const;

function sampleOf(prompt: readonly number[], row: { tokens: Int32Array; logprobs: Float32Array; allowed: (number[] | undefined)[] }, version: number, role: string): Sample {
  return { tokens: [...prompt, ...row.tokens], promptLength: prompt.length, logprobs: [...row.logprobs], allowed: row.allowed.map((a) => a ?? null), policyVersion: version, role };
}

/** Response text without its final <eos>. */
function responseText(vocab: Vocabulary, tokens: Int32Array): string {
  const body = tokens.at(-1) === EOS_ID ? tokens.subarray(0, -1) : tokens;
  return vocab.decode(body);
}

/** The challenger: `count` questions from the current policy, each with the references it is compared with. */
async function challenge(policy: PolicyHandle, o: RZeroOptions, context: number, sampling: { temperature: number; topP: number }, references: readonly unknown[], count: number, seed: number): Promise<ProposedTask[]> {
  const vocab = policy.vocab;
  const budget = questionBudget(o, context);
  const mask = questionMask(vocab, o, context);
  const prompt = challengerPrompt(vocab);
  const res = await policy.generate(Array.from({ length: count }, () => prompt), {
    maxNewTokens: budget + 1, temperature: sampling.temperature, topP: sampling.topP, stop: [EOS_ID], mask, seed,
  });
  const refs = referenceQuestions(references);
  return res.rows.map((row) => ({
    task: { question: responseText(vocab, row.tokens), references: refs } satisfies ArithTask,
    proposal: sampleOf(prompt, row, res.version, 'challenger'),
  }));
}

/** Text mode (warmStart.from: hf): `count` questions from the imported chat model, read from its tagged replies. */
async function challengeText(policy: PolicyHandle, codec: TextCodec, o: RZeroOptions, sampling: { temperature: number; topP: number }, references: readonly unknown[], count: number, seed: number): Promise<ProposedTask[]> {
  const prompt = textChallengerPrompt(codec, o);
  const res = await policy.generate(Array.from({ length: count }, () => prompt), {
    maxNewTokens: questionTokens(o), temperature: sampling.temperature, topP: sampling.topP, stop: [...codec.eos], seed,
  });
  const refs = referenceQuestions(references);
  // A reply without a tagged question proposes '' (invalid at validation: dropped, like any invalid question).
  return res.rows.map((row) => ({
    task: { question: parseTaggedQuestion(replyText(codec, [...row.tokens]).text) ?? '', references: refs } satisfies ArithTask,
    proposal: sampleOf(prompt, row, res.version, 'challenger'),
  }));
}

/**
 * R-Zero: a challenger proposes arithmetic questions; the solver answers each G times; the
 * majority answer is the pseudo-label (solver reward = agreement); the challenger earns the
 * uncertainty 1 − 2|p̂ − ½| minus a repetition penalty against recent questions. True answers
 * are computed by the judge only to measure label noise. See judge.ts and similarity.ts.
 *
 * Lengths come from the options (maxQuestionTokens, maxAnswerDigits), trimmed to fit
 * policy.context; rollout.maxNewTokens is not used by this recipe.
 *
 * Text mode (textMode; PolicyHandle.text present, warmStart.from: hf): the same game played by an
 * imported chat model in its own tokens, without grammar masks (text.ts): chat prompts, the
 * question in <question>…</question>, the answer in \boxed{…}, budgets textQuestionTokens and
 * textAnswerTokens.
 */
export const rZero: Recipe<RZeroOptions> = {
  name: 'r-zero',
  description: 'Challenger/solver on integer arithmetic; majority-vote pseudo-labels; uncertainty reward with a repetition penalty (R-Zero)',
  optionsSchema: RZeroOptionsSchema,
  proposesWithPolicy: true,
  labelsWithPolicy: true,
  textMode: true,
  defaultEstimator: { kind: 'grpo' },
  vocabulary: () => [{ symbols: [...ARITH_SYMBOLS], specials: [...ARITH_SPECIALS] }],
  segments: () => [...SEGMENTS],

  async propose(ctx) {
    if (!ctx.policy) throw new TaskRejected('r-zero proposes with the policy: ProposeContext.policy is required');
    if (ctx.count <= 0) return [];
    const { temperature, topP } = ctx.config.rollout;
    const seed = Math.floor(ctx.rng() * 2 ** 31);
    if (ctx.policy.text) return challengeText(ctx.policy, ctx.policy.text, ctx.config.options, { temperature, topP }, ctx.buffer, ctx.count, seed);
    return challenge(ctx.policy, ctx.config.options, ctx.config.policy.context ?? DEFAULT_CONTEXT, { temperature, topP }, ctx.buffer, ctx.count, seed);
  },

  optionsIssues: (o) => (o.informativeMin > o.informativeMax ? [{ path: '/informativeMax', message: `must be ≥ informativeMin (${o.informativeMin})` }] : []),

  validateTask: (task, o) => validateArithTask(task, o),

  async rollout(ctx, task, groupSize) {
    const o = ctx.config.options;
    let question: string;
    try {
      question = normaliseTask(task, o).task.question;
    } catch (err) {
      throw new TaskRejected(`invalid task: ${(err as Error).message}`);
    }
    const { temperature, topP } = ctx.config.rollout;
    const text = ctx.policy.text;
    let prompt: number[];
    let decode: Pick<GenerateOptions, 'maxNewTokens' | 'stop' | 'mask'>;
    if (text) {
      // Text mode: the chat prompt, no mask; the engine trims the budget to the context.
      prompt = textSolverPrompt(text, question);
      decode = { maxNewTokens: answerTokens(o), stop: [...text.eos] };
    } else {
      const vocab = ctx.policy.vocab;
      prompt = solverPrompt(vocab, question);
      const context = ctx.config.policy.context ?? DEFAULT_CONTEXT;
      const budget = answerBudget(o, context, prompt.length);
      if (budget < 1) throw new TaskRejected(`question of ${question.length} tokens leaves no room for an answer in policy.context`);
      decode = { maxNewTokens: budget + 1, stop: [EOS_ID], mask: answerMask(vocab, o, context, prompt.length) };
    }
    const answer = (policy: PolicyHandle) => policy.generate(Array.from({ length: groupSize }, () => prompt), {
      ...decode, temperature, topP, seed: Math.floor(ctx.rng() * 2 ** 31),
    });
    const own = await answer(ctx.policy);
    // With a labeler (R-Zero's frozen solver) that is not the solver's very weights, its G answers
    // make the label and the solver's are trained on it; otherwise the group labels itself.
    const labeler = ctx.labeler && !ctx.labeler.sameAsPolicy ? ctx.labeler.policy : undefined;
    const records = own.rows.map((row): AnswerRecord => ({ sample: sampleOf(prompt, row, own.version, 'solver'), ...(labeler ? { use: 'train' as const } : {}) }));
    if (labeler) {
      const votes = await answer(labeler);
      for (const row of votes.rows) records.push({ sample: sampleOf(prompt, row, votes.version, 'solver'), use: 'vote' });
    }
    return records;
  },

  judge: (task, rollouts, proposal, o, vocab, config, _copy, text): JudgedGroup => judgeArith(task, rollouts, proposal, o, vocab, config.policy.context ?? DEFAULT_CONTEXT, text),

  evalSuites: () => [...ARITH_SUITES],
  evaluate: (policy, suites, opts, o) => evaluateArith(policy, suites, opts, o),
  warmStartExamples: (config, vocab, seed, excluded) => arithWarmStart(config, vocab, seed, excluded),
  heldOut: (config) => arithHeldOut(config),
  textPromptIssues: (config, codec, context) => promptFitIssues(arithPromptFits(config.options, codec), context),
};
