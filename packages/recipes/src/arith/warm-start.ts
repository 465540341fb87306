import type { ExperimentConfig } from '@spar/core';
import { EOS_ID, type Vocabulary } from '@spar/policy/schema';
import { seededRng } from '../games/index.ts';
import type { WarmStartExample, WarmStartStream } from '../recipe.ts';
import type { OnExcluded } from '../held-out.ts';
import { EVAL_DIFFICULTIES, randomExpression } from './generator.ts';
import { arithHeldOutQuestions } from './held-out.ts';
import { ArithError } from './errors.ts';
import { answerBudget, challengerPrompt, checkQuestion, questionBudget, solverPrompt, type RZeroOptions } from './task.ts';

const MAX_DRAWS = 1000;
const DEFAULT_CONTEXT = 64;
/** Share of warm-start examples that teach the challenger's prompt (the rest teach the solver's). */
export const CHALLENGER_SHARE = 1 / 8;

/**
 * Warm-start examples of r-zero: generated arithmetic questions (1..4 operators, as the held-out
 * suite) with their exact answers, as the solver sees them: <bos> <q> question <a> answer <eos>;
 * and, one in CHALLENGER_SHARE, a question as the challenger writes it: <bos> <challenge>
 * question <eos> (within the challenger's limits: maxOperators, maxLiteralDigits, maxDepth,
 * the question budget). R-Zero's base model can already write questions; without these the
 * challenger's prompt is one the policy has never seen, and its first questions are a handful of
 * repeats that the proposer's dedupe throws away.
 * Questions of the held-out set (heldOutSet of eval.seed, eval.episodes; each one skipped is
 * reported as a 'warm_start' exclusion) and questions or answers beyond the budgets are skipped.
 */
export function arithWarmStart(config: ExperimentConfig<RZeroOptions>, vocab: Vocabulary, seed: number, excluded?: OnExcluded): WarmStartStream {
  const o = config.options;
  const context = config.policy.context ?? DEFAULT_CONTEXT;
  const heldOut = arithHeldOutQuestions(config);
  const rng = seededRng(seed >>> 0);
  const draw = (difficulties: readonly number[]) => {
    const q = randomExpression(rng, difficulties[Math.floor(rng() * difficulties.length)]!);
    if (!heldOut.has(q.question)) return q;
    excluded?.('warm_start', 1);
    return undefined;
  };
  /** The first draw of `sizes` that `build` turns into an example (undefined: does not fit, redraw). */
  const firstFit = (sizes: readonly number[], what: string, build: (q: { question: string; answer: string }) => WarmStartExample | undefined): WarmStartExample => {
    for (let d = 0; d < MAX_DRAWS; d++) {
      const q = draw(sizes);
      const ex = q && build(q);
      if (ex) return ex;
    }
    throw new Error(`warm start: no ${what} in ${MAX_DRAWS} draws`);
  };
  const solver = () => firstFit(EVAL_DIFFICULTIES, 'arithmetic question within the budgets', (q) => {
    const qTokens = vocab.encode(q.question, { strict: true });
    if (qTokens.length > questionBudget(o, context)) return undefined;
    const prompt = solverPrompt(vocab, q.question);
    const answer = vocab.encode(q.answer, { strict: true });
    if (answer.length > answerBudget(o, context, prompt.length) || q.answer.replace('-', '').length > o.maxAnswerDigits) return undefined;
    const full = [...answer, EOS_ID];
    return { tokens: [...prompt, ...full], mask: [...prompt.map(() => 0), ...full.map(() => 1)] };
  });
  const challengeSizes = EVAL_DIFFICULTIES.filter((d) => d <= (o.maxOperators ?? Infinity));
  const challenger = () => firstFit(challengeSizes, "question within the challenger's limits", (q) => {
    const tokens = vocab.encode(q.question, { strict: true });
    if (tokens.length > questionBudget(o, context)) return undefined;
    try {
      checkQuestion(q.question, o);
    } catch (err) {
      if (err instanceof ArithError) return undefined;
      throw err;
    }
    const prompt = challengerPrompt(vocab);
    const full = [...tokens, EOS_ID];
    return { tokens: [...prompt, ...full], mask: [...prompt.map(() => 0), ...full.map(() => 1)] };
  });
  return (count) => Array.from({ length: count }, () => (rng() < CHALLENGER_SHARE ? challenger() : solver()));
}
