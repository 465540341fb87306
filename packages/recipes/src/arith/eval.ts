/**
 * Held-out evaluation suite 'arith': a fixed set of `episodes` questions generated from the eval
 * seed (heldOutSet: difficulties 1..4 operators, cycling), never proposer-written. The policy
 * answers greedily (temperature 0), through the answer mask when the experiment constrains
 * decoding; an answer counts when it ends with <eos>, is a canonical integer and equals the exact
 * value. Reports accuracy, formatRate, count and accuracyD1..accuracyD4.
 *
 * Text mode (PolicyHandle.text, warmStart.from: hf): the same questions posed in the solver's
 * chat prompt (text.ts), answered greedily within textAnswerTokens, read from `\boxed{…}`.
 */
import { EOS_ID } from '@spar/policy/schema';
import type { EvalOptions, EvalReport, PolicyHandle } from '../recipe.ts';
import { parseAnswer } from './expr.ts';
import { EVAL_DIFFICULTIES, heldOutSet } from './generator.ts';
import { answerState, grammarMask } from './grammar.ts';
import { solverPrompt, type RZeroOptions } from './task.ts';
import { answerTokens, parseBoxedAnswer, replyText, textSolverPrompt } from './text.ts';

export const ARITH_SUITES = ['arith'] as const;
/** Questions per generate() call. */
const CHUNK = 64;

export async function evaluateArithmetic(policy: PolicyHandle, o: EvalOptions, options: RZeroOptions): Promise<Record<string, number>> {
  const set = heldOutSet(o.seed, o.episodes);
  const vocab = policy.vocab;
  const maxTokens = options.maxAnswerDigits + 1;
  const correctBy = new Map<number, [number, number]>(EVAL_DIFFICULTIES.map((d) => [d, [0, 0]]));
  let correct = 0;
  let wellFormed = 0;
  const text = policy.text;
  for (let start = 0; start < set.length; start += CHUNK) {
    const chunk = set.slice(start, start + CHUNK);
    const prompts = chunk.map((q) => (text ? textSolverPrompt(text, q.question) : solverPrompt(vocab, q.question)));
    const mask = !text && options.constrain ? grammarMask(vocab, () => answerState({ maxDigits: options.maxAnswerDigits, maxTokens })) : undefined;
    const decode = text ? { maxNewTokens: answerTokens(options), stop: [...text.eos] } : { maxNewTokens: maxTokens + 1, stop: [EOS_ID] };
    const res = await policy.generate(prompts, { ...decode, temperature: 0, mask, seed: o.seed + start });
    chunk.forEach((q, k) => {
      const toks = [...res.rows[k]!.tokens];
      let answer: string | undefined;
      if (text) {
        const reply = replyText(text, toks);
        answer = reply.ended ? parseBoxedAnswer(reply.text, options.maxAnswerDigits) : undefined;
      } else {
        const ended = toks.at(-1) === EOS_ID;
        const body = ended ? toks.slice(0, -1) : toks;
        answer = ended && !body.includes(EOS_ID) ? parseAnswer(vocab.decode(body), options.maxAnswerDigits) : undefined;
      }
      const ok = answer !== undefined && answer === q.answer;
      if (answer !== undefined) wellFormed++;
      if (ok) correct++;
      const slot = correctBy.get(q.difficulty)!;
      slot[0] += ok ? 1 : 0;
      slot[1]++;
    });
  }
  const n = set.length;
  const report: Record<string, number> = { accuracy: n ? correct / n : 0, formatRate: n ? wellFormed / n : 0, count: n };
  for (const [d, [c, total]] of correctBy) report[`accuracyD${d}`] = total ? c / total : 0;
  return report;
}

export async function evaluateArith(policy: PolicyHandle, suites: readonly string[], o: EvalOptions, options: RZeroOptions): Promise<EvalReport> {
  const report: EvalReport = {};
  for (const suite of suites) if (suite === 'arith') report[suite] = await evaluateArithmetic(policy, o, options);
  return report;
}
