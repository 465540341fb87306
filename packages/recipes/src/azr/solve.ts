/**
 * Solver side shared by absolute-zero and rlvr-fixed: G answers per task (grammar-masked), and
 * their judging. The judge re-validates the task (re-running the program: outputs claimed by the
 * payload are ignored), checks each recorded prompt is the task's prompt, decodes the answer and
 * scores it with dsl judgeAnswer; nothing the solver claims is trusted. Under constrained decoding
 * the allowed sets the learner scores with are recomputed by replaying the grammar mask with the
 * solver's own budget (the experiment's decode caps); a token the grammar forbids rejects the group.
 *
 * Reward shaping (options.rewardShaping; Absolute Zero's CodeIORewardManager, algorithms.md §8):
 *   azr     correct 1, formatted but wrong −0.5, format error −1
 *   binary  correct 1, otherwise 0
 * An answer is formatted when it ends with END and parses as the kind the task asks for
 * (value / input / program); a runtime error of the solver's program counts as wrong.
 *
 * Text mode (PolicyHandle.text / the judge's `text`, warmStart.from: hf; text.ts): the prompt is the
 * chat rendering of the task, the reply (≤ textAnswerTokens, no mask, no allowed sets) is formatted
 * when it ended with an eos id and its last `<answer>…</answer>` parses as the kind asked for; the
 * rewards are the same.
 */
import type { ExperimentConfig, Sample, Trajectory } from '@spar/core';
import { EOS_ID, type LogitMask, type TextCodec, type Vocabulary } from '@spar/policy/schema';
import { answerKind, END, judgeAnswer, type Judgement, type Task } from '../dsl/index.ts';
import type { PolicyHandle } from '../recipe.ts';
import { judgedAllowed, judgedSample } from '../replay-mask.ts';
import { TaskRejected } from '../errors.ts';
import { AzrBudgetError } from './errors.ts';
import { grammarMask } from './mask.ts';
import type { SolverOptions } from './options.ts';
import { answerBudget, checkTask, solverPromptIds } from './tasks.ts';
import { answerTokens, parseTaggedAnswer, replyText, textResponse, textSolverPrompt } from './text.ts';

export const CHECKER = { checker: 'spar-dsl', version: '1' } as const;
/** Shortest complete answer per kind: a digit, `[ ]`, a one-token program. */
const MIN_ANSWER = { deduction: 1, abduction: 2, induction: 1 } as const;
const MAX_GROUP = 4096;
const MAX_RESPONSE = 4096;
const MAX_SEQUENCE = 8192;

/** One solver answer as the solver recorded it. */
export interface AnswerRecord {
  readonly index: number;
  readonly sample: Sample;
}

export interface DecodeSettings {
  readonly temperature: number;
  readonly topP: number;
  /** Cap on generated tokens, END included (rollout.maxNewTokens). */
  readonly maxNewTokens?: number;
  /** Policy context: prompt + answer must fit. */
  readonly context?: number;
  readonly seed?: number;
}

/** The decode caps a solver ran under, from the experiment (judge side). */
export function decodeOf(config: ExperimentConfig<unknown>): DecodeSettings {
  const { temperature, topP, maxNewTokens } = config.rollout;
  return { temperature, topP, maxNewTokens, context: config.policy.context ?? 64 };
}

/** Re-validate a task payload or reject it (solver and judge side). */
export function mustTask(raw: unknown, o: SolverOptions): Task {
  const c = checkTask(raw, o);
  if (!c.ok) throw new TaskRejected(`invalid task: ${c.reason}`);
  return c.task;
}

/** Answer budget (symbols) for one prompt under the options and decode caps. */
export function rowBudget(task: Task, promptLength: number, o: SolverOptions, d: DecodeSettings): number {
  let b = answerBudget(task.type, o);
  if (d.maxNewTokens !== undefined) b = Math.min(b, d.maxNewTokens - 1);
  if (d.context !== undefined) b = Math.min(b, d.context - promptLength - 1);
  if (b < MIN_ANSWER[task.type]) throw new AzrBudgetError(`no room for a ${task.type} answer after a ${promptLength}-token prompt (budget ${b})`);
  return b;
}

/** Generate one answer per task (tasks may repeat: a group is G copies). */
export async function answer(policy: PolicyHandle, tasks: readonly Task[], o: SolverOptions, d: DecodeSettings): Promise<{ prompts: number[][]; samples: Sample[] }> {
  if (policy.text) return answerText(policy, policy.text, tasks, o, d);
  const prompts = tasks.map((t) => solverPromptIds(policy.vocab, t));
  const budgets = tasks.map((t, i) => rowBudget(t, prompts[i]!.length, o, d));
  const mask = o.constrain ? grammarMask(policy.vocab, tasks.map((t, i) => ({ kind: answerKind(t.type), maxTokens: budgets[i]! }))) : undefined;
  const res = await policy.generate(prompts, {
    temperature: d.temperature, topP: d.topP, maxNewTokens: Math.max(...budgets) + 1, stop: [EOS_ID], mask, seed: d.seed,
  });
  const samples = res.rows.map((row, i) => ({
    tokens: [...prompts[i]!, ...row.tokens], promptLength: prompts[i]!.length, logprobs: [...row.logprobs], allowed: row.allowed.map((a) => a ?? null), policyVersion: res.version, role: 'solver',
  }));
  return { prompts, samples };
}

/** Text mode: one chat reply per task, within textAnswerTokens (the engine trims it to the context), no mask. */
async function answerText(policy: PolicyHandle, codec: TextCodec, tasks: readonly Task[], o: SolverOptions, d: DecodeSettings): Promise<{ prompts: number[][]; samples: Sample[] }> {
  const prompts = tasks.map((t) => textSolverPrompt(codec, t));
  const res = await policy.generate(prompts, { temperature: d.temperature, topP: d.topP, maxNewTokens: answerTokens(o), stop: [...codec.eos], seed: d.seed });
  const samples = res.rows.map((row, i) => ({
    tokens: [...prompts[i]!, ...row.tokens], promptLength: prompts[i]!.length, logprobs: [...row.logprobs], allowed: row.allowed.map((a) => a ?? null), policyVersion: res.version, role: 'solver',
  }));
  return { prompts, samples };
}

/** Judge a text reply's ids: formatted only if it ended with an eos id and has an `<answer>` that parses. */
export function judgeText(task: Task, codec: TextCodec, response: readonly number[], o: SolverOptions): Judgement {
  const reply = replyText(codec, response);
  if (!reply.ended) return { formatOk: false, correct: false, reason: 'reply did not end within its budget' };
  const a = parseTaggedAnswer(reply.text);
  if (a === undefined) return { formatOk: false, correct: false, reason: 'no <answer>…</answer>' };
  return judgeAnswer(task, a, { fuel: o.fuel });
}

export async function rolloutGroup(policy: PolicyHandle, raw: unknown, groupSize: number, o: SolverOptions, d: DecodeSettings): Promise<AnswerRecord[]> {
  const task = mustTask(raw, o);
  const { samples } = await answer(policy, Array.from({ length: groupSize }, () => task), o, d);
  return samples.map((sample, index) => ({ index, sample }));
}

/** Judge decoded answer symbols: formatted only if they end with END. */
export function judgeSymbols(task: Task, symbols: readonly string[], o: SolverOptions): Judgement {
  if (symbols.at(-1) !== END) return { formatOk: false, correct: false, reason: 'answer did not end with END' };
  return judgeAnswer(task, symbols, { fuel: o.fuel });
}

export function solverReward(j: Judgement, shaping: SolverOptions['rewardShaping']): number {
  if (j.correct) return 1;
  if (shaping === 'binary') return 0;
  if (!j.formatOk) return -1;
  // 'partial': a wrong answer earns back up to half its penalty by how close its output is.
  return shaping === 'partial' ? -0.5 + 0.5 * (j.similarity ?? 0) : -0.5;
}

/** Structural checks on a recorded sample; returns its response symbols. */
export function responseSymbols(vocab: Vocabulary, s: Sample, what: string): string[] {
  if (!s || typeof s !== 'object' || !Array.isArray(s.tokens) || !Array.isArray(s.logprobs)) throw new TaskRejected(`${what}: malformed sample`);
  if (!Number.isInteger(s.promptLength) || s.promptLength < 1 || s.promptLength > s.tokens.length) throw new TaskRejected(`${what}: bad promptLength`);
  const n = s.tokens.length - s.promptLength;
  if (n > MAX_RESPONSE) throw new TaskRejected(`${what}: response longer than ${MAX_RESPONSE}`);
  if (s.tokens.length > MAX_SEQUENCE) throw new TaskRejected(`${what}: longer than ${MAX_SEQUENCE} tokens`);
  if (s.logprobs.length !== n || !s.logprobs.every((x) => typeof x === 'number' && !Number.isNaN(x))) throw new TaskRejected(`${what}: logprobs do not match the response`);
  if (!Number.isInteger(s.policyVersion)) throw new TaskRejected(`${what}: bad policyVersion`);
  // Every id, prompt included, must be a token of the vocabulary (the learner indexes embeddings with them).
  const bad = s.tokens.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocab.size);
  if (bad >= 0) throw new TaskRejected(`${what}: token ${bad} is not a vocabulary id`);
  return s.tokens.slice(s.promptLength).map((id) => vocab.symbol(id));
}

/** The judge's allowed sets of a DSL sample (replay-mask.ts); a token outside them is TaskRejected. */
export function dslAllowed(s: Sample, mask: LogitMask | undefined, what: string): number[][] | undefined {
  return judgedAllowed(s, mask, what, (m) => new TaskRejected(m));
}

export interface SolverVerdicts {
  readonly trajectories: Omit<Trajectory, 'trajectoryId'>[];
  readonly solveRate: number;
  readonly formatErrorRate: number;
}

/** Judge a solver group against a re-validated task. Throws TaskRejected on tampered records. */
export function judgeSolvers(task: Task, group: string, rollouts: readonly unknown[], o: SolverOptions, vocab: Vocabulary, d: DecodeSettings, text?: TextCodec): SolverVerdicts {
  if (!Array.isArray(rollouts) || rollouts.length === 0 || rollouts.length > MAX_GROUP) throw new TaskRejected(`need 1..${MAX_GROUP} rollouts`);
  if (text) return judgeTextSolvers(task, group, rollouts, o, text);
  const prompt = solverPromptIds(vocab, task);
  let budget = 0;
  if (o.constrain) {
    try {
      budget = rowBudget(task, prompt.length, o, d);
    } catch (err) {
      if (err instanceof AzrBudgetError) throw new TaskRejected(`the task leaves no room for an answer: ${err.message}`);
      throw err;
    }
  }
  const row = { kind: answerKind(task.type), maxTokens: budget };
  return solverTrajectories(task, group, rollouts, o, (s, k) => {
    const symbols = responseSymbols(vocab, s, `answer ${k}`);
    samePrompt(s, prompt, k);
    const allowed = dslAllowed(s, o.constrain ? grammarMask(vocab, [row]) : undefined, `answer ${k}`);
    return { j: judgeSymbols(task, symbols, o), allowed };
  });
}

/** judgeSolvers in text mode: the same checks and rewards over the imported model's ids, nothing masked. */
function judgeTextSolvers(task: Task, group: string, rollouts: readonly unknown[], o: SolverOptions, codec: TextCodec): SolverVerdicts {
  const prompt = textSolverPrompt(codec, task);
  return solverTrajectories(task, group, rollouts, o, (s, k) => {
    const response = textResponse(codec, s, `answer ${k}`, answerTokens(o));
    samePrompt(s, prompt, k);
    return { j: judgeText(task, codec, response, o) };
  });
}

/** A recorded answer must carry the task's own prompt, id for id. */
function samePrompt(s: Sample, prompt: readonly number[], k: number): void {
  if (s.promptLength !== prompt.length || prompt.some((id, j) => s.tokens[j] !== id)) throw new TaskRejected(`answer ${k}: prompt is not the task's prompt`);
}

/** A solver group's trajectories, rewards and rates from one verdict per answer (`judgeRow` throws TaskRejected on a tampered record). */
function solverTrajectories(
  task: Task, group: string, rollouts: readonly unknown[], o: SolverOptions,
  judgeRow: (s: Sample, k: number) => { j: Judgement; allowed?: number[][] },
): SolverVerdicts {
  let correct = 0;
  let formatErrors = 0;
  const trajectories = (rollouts as AnswerRecord[]).map((r, k) => {
    const s = r?.sample;
    const { j, allowed } = judgeRow(s, k);
    if (j.correct) correct++;
    if (!j.formatOk) formatErrors++;
    return {
      sample: judgedSample(s, 'solver', allowed), reward: solverReward(j, o.rewardShaping), formatOk: j.formatOk, correct: j.correct,
      group, segment: `${task.type}/solver`,
    };
  });
  return { trajectories, solveRate: correct / rollouts.length, formatErrorRate: formatErrors / rollouts.length };
}
