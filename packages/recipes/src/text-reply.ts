/**
 * Reading an imported chat model's replies (text mode, warmStart.from: hf), shared by every recipe
 * with a text mode: a reply's decoded text and whether it ended, and the structural checks a
 * judge runs on a recorded text sample before reading it.
 */
import type { FieldIssue, Sample } from '@spar/core';
import type { TextCodec } from '@spar/policy/schema';
import { TaskRejected } from './errors.ts';

const MAX_RESPONSE = 8192;
/** Where a boxed final answer starts (`\boxed{…}`, the Qwen-Math / R1 convention). */
export const BOXED = '\\boxed{';
/** The instruction that asks for it (R-Zero's solver system prompt, SPIRAL's move rule). */
export const REASON_AND_BOX = 'Please reason step by step, and put your final answer within \\boxed{}.';
const MAX_SEQUENCE = 65536;

/** A reply's ids: whether it ended with an eos id, and the decoded text before it (`\u0000` if an eos id came earlier). */
export function replyText(codec: TextCodec, response: readonly number[]): { text: string; ended: boolean } {
  const ended = response.length > 0 && codec.eos.includes(response.at(-1)!);
  const body = ended ? response.slice(0, -1) : response;
  return { text: body.some((id) => codec.eos.includes(id)) ? '\u0000' : codec.decode(body, { skipSpecialTokens: true }), ended };
}

/** The content of the last `\boxed{…}`, trimmed; undefined when there is none (or it is not closed). */
export function lastBoxed(text: string): string | undefined {
  const start = text.lastIndexOf(BOXED);
  if (start < 0) return undefined;
  const end = text.indexOf('}', start + BOXED.length);
  return end < 0 ? undefined : text.slice(start + BOXED.length, end).trim();
}

/** Structural checks on a recorded text sample (ids within the model, budgets, log-probs); returns its response ids. */
export function textResponse(codec: TextCodec, s: Sample, what: string, maxResponse = MAX_RESPONSE): number[] {
  if (!s || typeof s !== 'object' || !Array.isArray(s.tokens) || !Array.isArray(s.logprobs)) throw new TaskRejected(`${what}: malformed sample`);
  if (!Number.isInteger(s.promptLength) || s.promptLength < 1 || s.promptLength > s.tokens.length) throw new TaskRejected(`${what}: bad promptLength`);
  const n = s.tokens.length - s.promptLength;
  if (n > Math.min(maxResponse, MAX_RESPONSE)) throw new TaskRejected(`${what}: response length ${n} exceeds ${Math.min(maxResponse, MAX_RESPONSE)}`);
  if (s.tokens.length > MAX_SEQUENCE) throw new TaskRejected(`${what}: longer than ${MAX_SEQUENCE} tokens`);
  if (s.logprobs.length !== n || !s.logprobs.every((x) => typeof x === 'number' && !Number.isNaN(x))) throw new TaskRejected(`${what}: logprobs do not match the response`);
  if (!Number.isInteger(s.policyVersion)) throw new TaskRejected(`${what}: bad policyVersion`);
  if (!s.tokens.every((id) => Number.isInteger(id) && id >= 0 && id < codec.size)) throw new TaskRejected(`${what}: token id outside the vocabulary`);
  return s.tokens.slice(s.promptLength);
}

/** One prompt family to fit: its longest prompt's length in tokens, the reply budget, and the option that sets it. */
export interface PromptFit {
  readonly what: string;
  readonly promptTokens: number;
  readonly replyTokens: number;
  readonly budgetOption: string;
}

/** The issue (at /policy/context) for each prompt family whose longest prompt and reply budget exceed `context`. */
export function promptFitIssues(fits: readonly PromptFit[], context: number): FieldIssue[] {
  return fits.filter((f) => f.promptTokens + f.replyTokens > context).map((f) => ({
    path: '/policy/context',
    message: `the longest ${f.what} prompt is ${f.promptTokens} tokens with this model's tokenizer; with ${f.budgetOption} ${f.replyTokens} it needs a context of ≥ ${f.promptTokens + f.replyTokens}, and the experiment runs ${context}: raise policy.context (up to the model's) or lower ${f.budgetOption}`,
  }));
}
