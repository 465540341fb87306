/**
 * The r-zero judge (R-Zero / TTRL style): no ground truth is used for reward.
 *
 *  - Every solver answer is re-read from its tokens (the prompt must be the task's solver prompt);
 *    an answer is well formed when it ends with <eos> and is a canonical integer (parseAnswer).
 *    Under constrained decoding the allowed sets the learner scores with are recomputed by
 *    replaying the answer (and question) grammar with the solver's own budget (masks.ts); a token
 *    the grammar forbids rejects the group.
 *  - Pseudo-label = the most frequent well-formed answer. Ties go to the numerically smallest
 *    answer: arbitrary but deterministic and independent of rollout order (R-Zero's
 *    Counter.most_common keeps first-seen order, which would make a re-delivered, reordered
 *    group judge differently).
 *  - p̂ = (votes for the pseudo-label) / G, where G counts every rollout, malformed ones included
 *    (R-Zero: empty answers count in the denominator). No well-formed answer → no label, p̂ = 0.
 *  - Solver reward = 1 when the answer equals the pseudo-label, else 0 (format failures 0, with
 *    formatOk false). `correct` = agrees with the pseudo-label (the verdict the reward used).
 *  - Informative-question filter (R-Zero): the solver's answers are trained only when
 *    informativeMin ≤ p̂ ≤ informativeMax (R-Zero's 0.3–0.8). A near-unanimous vote is either
 *    easy or a confidently wrong label; training on it is what collapses majority voting. The
 *    filtered group still reports its stats (stat `informative` 0/1) and trains the challenger.
 *  - Labeler (config.roles.labeler, R-Zero's frozen solver): each answer record says what it is
 *    for — `vote` (the labeler's answer: counted in the vote, never trained), `train` (the
 *    solver's answer: trained against the label, not counted) or `both` (the default: a group
 *    labelled by its own answers, or by a labeler holding the solver's very weights). p̂, the
 *    filter and the challenger's reward are the voters'; trueAccuracy is the trained answers'.
 *  - Challenger reward = uncertainty 1 − 2|p̂ − ½| minus repetitionPenalty × near-duplicate share
 *    of its question among the task's references (similarity.ts).
 *  - The true answer is recomputed here and only reported in stats: pseudoLabelAccuracy (0/1),
 *    trainedLabelAccuracy (the same, only on groups the solver trains on), trueAccuracy (fraction
 *    of the trained answers equal to it), i.e. the label noise R-Zero measures.
 *
 * Text mode (warmStart.from: hf; text.ts): the same rules over the imported model's tokens —
 * the prompts are the chat template's renderings of the task, a reply has ended when its last id
 * is one of the model's eos ids, answers are read from `\boxed{…}` and the challenger's question
 * from `<question>…</question>` in the decoded text, and nothing is masked (no allowed sets).
 *
 * GRPO groups: solver trajectories are grouped by the canonical question; the challenger's by
 * CHALLENGER_GROUP (all challenger samples share one prompt, so the learner compares them with
 * each other, as R-Zero's questioner GRPO does; putting them in the question's group would mix
 * them with the solver rewards).
 */
import type { Sample, Trajectory } from '@spar/core';
import { EOS_ID, type LogitMask, type TextCodec, type Vocabulary } from '@spar/policy/schema';
import type { JudgedGroup } from '../recipe.ts';
import { judgedAllowed, judgedSample } from '../replay-mask.ts';
import { TaskRejected } from '../errors.ts';
import { ArithError } from './errors.ts';
import { compareIntegers, parseAnswer } from './expr.ts';
import { answerMask, questionMask } from './masks.ts';
import { repetition } from './similarity.ts';
import { challengerPrompt, checkQuestion, normaliseTask, solverPrompt, type RZeroOptions } from './task.ts';
import { answerTokens, parseBoxedAnswer, parseTaggedQuestion, questionTokens, replyText, textChallengerPrompt, textSolverPrompt } from './text.ts';

/** What an answer is for: the vote, training, or both (the default). */
export type AnswerUse = 'vote' | 'train' | 'both';
export const ANSWER_USES: readonly AnswerUse[] = ['vote', 'train', 'both'];

/** One solver answer as the solver recorded it. */
export interface AnswerRecord {
  readonly sample: Sample;
  /** Absent: both (no labeler). */
  readonly use?: AnswerUse;
}

export const PROVENANCE = Object.freeze({ checker: 'spar-arith-majority', version: '1' });
export const CHALLENGER_GROUP = 'r-zero/challenger';
export const MAX_GROUP = 256;

export interface Vote {
  /** The pseudo-label, or undefined when no answer was well formed. */
  readonly label?: string;
  readonly votes: number;
  readonly total: number;
  /** votes / total (0 when total is 0). */
  readonly p: number;
}

/** Majority vote over answers (undefined = malformed, counted in the denominator only). */
export function majorityVote(answers: readonly (string | undefined)[]): Vote {
  const counts = new Map<string, number>();
  for (const a of answers) if (a !== undefined) counts.set(a, (counts.get(a) ?? 0) + 1);
  let label: string | undefined;
  let votes = 0;
  for (const [a, c] of counts) {
    if (c > votes || (c === votes && label !== undefined && compareIntegers(a, label) < 0)) {
      label = a;
      votes = c;
    }
  }
  return { label, votes, total: answers.length, p: answers.length ? votes / answers.length : 0 };
}

/** R-Zero's filter: min ≤ p̂ ≤ max (a hair of slack so that 3/10 counts at 0.3 in floating point). */
export function isInformative(p: number, min: number, max: number): boolean {
  return p >= min - 1e-9 && p <= max + 1e-9;
}

/** R-Zero's uncertainty reward rescaled to [0, 1]: 1 at p̂ = ½, 0 at p̂ ∈ {0, 1}. */
export function uncertaintyReward(p: number): number {
  return 1 - 2 * Math.abs(p - 0.5);
}

function sameTokens(a: readonly number[], prefix: readonly number[]): boolean {
  return prefix.every((id, j) => a[j] === id);
}

/** A clean copy of a checked sample with the judge's allowed sets (replay-mask.ts) and role. */
function judgedArithSample(s: Sample, mask: LogitMask | undefined, role: string, what: string): Sample {
  return judgedSample(s, role, judgedAllowed(s, mask, what, (m) => new TaskRejected(m)));
}

/** Checks a sample against its prompt and budget; returns its response ids. */
function checkedResponse(size: number, s: Sample, prompt: readonly number[], maxResponse: number, what: string): number[] {
  if (!s || typeof s !== 'object' || !Array.isArray(s.tokens) || !Array.isArray(s.logprobs)) throw new TaskRejected(`${what}: malformed sample`);
  if (s.promptLength !== prompt.length || !sameTokens(s.tokens, prompt)) throw new TaskRejected(`${what}: prompt does not match the task`);
  const n = s.tokens.length - s.promptLength;
  if (n > maxResponse) throw new TaskRejected(`${what}: response length ${n} exceeds ${maxResponse}`);
  if (s.logprobs.length !== n) throw new TaskRejected(`${what}: logprobs do not match the response`);
  if (!s.tokens.every((id) => Number.isInteger(id) && id >= 0 && id < size)) throw new TaskRejected(`${what}: token id outside the vocabulary`);
  return s.tokens.slice(s.promptLength);
}

/**
 * How the judge reads a group: the prompts it must start with, the reply budgets, the masks to
 * replay, and how a reply's text becomes an answer or a question — in spar's symbols, or in an
 * imported model's text (text.ts).
 */
interface Reader {
  readonly size: number;
  solverPrompt(question: string): number[];
  challengerPrompt(): number[];
  readonly answerMax: number;
  readonly questionMax: number;
  answerMask(promptLength: number): LogitMask | undefined;
  questionMask(): LogitMask | undefined;
  text(response: readonly number[]): { text: string; ended: boolean };
  answer(text: string): string | undefined;
  question(text: string): string | undefined;
}

function symbolReader(vocab: Vocabulary, o: RZeroOptions, context: number): Reader {
  return {
    size: vocab.size,
    solverPrompt: (q) => solverPrompt(vocab, q),
    challengerPrompt: () => challengerPrompt(vocab),
    answerMax: o.maxAnswerDigits + 2,
    questionMax: o.maxQuestionTokens + 1,
    answerMask: (promptLength) => answerMask(vocab, o, context, promptLength),
    questionMask: () => questionMask(vocab, o, context),
    text(resp) {
      const ended = resp.at(-1) === EOS_ID;
      const body = ended ? resp.slice(0, -1) : resp;
      return { text: body.includes(EOS_ID) ? '\u0000' : vocab.decode(body), ended };
    },
    answer: (text) => parseAnswer(text, o.maxAnswerDigits),
    question: (text) => text,
  };
}

function textReader(codec: TextCodec, o: RZeroOptions): Reader {
  return {
    size: codec.size,
    solverPrompt: (q) => textSolverPrompt(codec, q),
    challengerPrompt: () => textChallengerPrompt(codec, o),
    answerMax: answerTokens(o),
    questionMax: questionTokens(o),
    answerMask: () => undefined,
    questionMask: () => undefined,
    text: (resp) => replyText(codec, resp),
    answer: (text) => parseBoxedAnswer(text, o.maxAnswerDigits),
    question: (text) => parseTaggedQuestion(text),
  };
}

export function judgeArith(task: unknown, rollouts: readonly unknown[], proposal: Sample | undefined, o: RZeroOptions, vocab: Vocabulary, context: number, text?: TextCodec): JudgedGroup {
  const read = text ? textReader(text, o) : symbolReader(vocab, o, context);
  let normal;
  try {
    normal = normaliseTask(task, o);
  } catch (err) {
    if (err instanceof ArithError) throw new TaskRejected(`invalid task: ${err.message}`);
    throw err;
  }
  const { task: t, checked } = normal;
  if (!Array.isArray(rollouts) || rollouts.length === 0 || rollouts.length > MAX_GROUP) throw new TaskRejected(`a group needs 1..${MAX_GROUP} answers`);
  const prompt = read.solverPrompt(t.question);
  const answers = rollouts.map((r, i) => {
    const rec = r as Partial<AnswerRecord> | null;
    const s = rec?.sample as Sample;
    const use = rec?.use ?? 'both';
    if (!ANSWER_USES.includes(use)) throw new TaskRejected(`answer ${i}: use must be one of ${ANSWER_USES.join(', ')}`);
    const reply = read.text(checkedResponse(read.size, s, prompt, read.answerMax, `answer ${i}`));
    return { sample: judgedArithSample(s, read.answerMask(prompt.length), 'solver', `answer ${i}`), answer: reply.ended ? read.answer(reply.text) : undefined, use };
  });
  const voters = answers.filter((a) => a.use !== 'train');
  const trained = answers.filter((a) => a.use !== 'vote');
  if (voters.length === 0 || trained.length === 0) throw new TaskRejected('a group needs answers that vote and answers to train');
  const vote = majorityVote(voters.map((a) => a.answer));
  const informative = isInformative(vote.p, o.informativeMin, o.informativeMax);
  const trajectories: Omit<Trajectory, 'trajectoryId'>[] = !informative ? [] : trained.map(({ sample, answer }) => {
    const agrees = answer !== undefined && answer === vote.label;
    return { sample, reward: agrees ? 1 : 0, formatOk: answer !== undefined, correct: agrees, group: t.question, segment: 'solver' };
  });

  const uncertainty = uncertaintyReward(vote.p);
  const rep = repetition(t.question, t.references);
  if (proposal !== undefined) {
    const written = read.question(read.text(checkedResponse(read.size, proposal, read.challengerPrompt(), read.questionMax, 'proposal')).text);
    let canonical: string | undefined;
    try {
      canonical = checkQuestion(written, o).canonical;
    } catch (err) {
      if (!(err instanceof ArithError)) throw err;
    }
    if (canonical !== t.question) throw new TaskRejected('proposal: the challenger did not write this question');
    trajectories.push({
      sample: judgedArithSample(proposal, read.questionMask(), 'challenger', 'proposal'), reward: uncertainty - o.repetitionPenalty * rep.fraction,
      formatOk: true, correct: true, group: CHALLENGER_GROUP, segment: 'challenger',
    });
  }

  // Measurements only: the true answer never enters a reward above.
  const truth = String(checked.value);
  const trueHits = trained.filter((a) => a.answer === truth).length;
  return {
    trajectories,
    provenance: PROVENANCE,
    stats: {
      majorityFraction: vote.p,
      pseudoLabelAccuracy: vote.label === truth ? 1 : 0,
      trueAccuracy: trueHits / trained.length,
      formatRate: trained.filter((a) => a.answer !== undefined).length / trained.length,
      solveRate: vote.p,
      uncertainty,
      repetition: rep.fraction,
      informative: informative ? 1 : 0,
      // The label's accuracy on the questions the solver trains on (absent on filtered groups, so a window's mean is over trained questions only).
      ...(informative ? { trainedLabelAccuracy: vote.label === truth ? 1 : 0 } : {}),
    },
  };
}
