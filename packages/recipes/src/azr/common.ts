/** Pieces of the Recipe interface that absolute-zero and rlvr-fixed implement identically. */
import type { Validity } from '@spar/core';
import type { VocabularySpec } from '@spar/policy/schema';
import { DSL_SPECIALS, DSL_SYMBOLS } from '../dsl/index.ts';
import type { SolveContext } from '../recipe.ts';
import type { SolverOptions } from './options.ts';
import { decodeOf, rolloutGroup, type AnswerRecord } from './solve.ts';
import { checkTask } from './tasks.ts';

/** DSL symbols, the format markers as specials; the vocabulary's fixed `<eos>` is the DSL END. */
export const AZR_VOCABULARY: VocabularySpec = Object.freeze({ symbols: DSL_SYMBOLS, specials: DSL_SPECIALS });

export function dslValidity(task: unknown, o: SolverOptions): Validity {
  const c = checkTask(task, o);
  return c.ok ? { valid: true, canonical: c.key, task: c.wire } : { valid: false, reason: c.reason };
}

export function dslRollout<O extends SolverOptions>(ctx: SolveContext<O>, task: unknown, groupSize: number): Promise<AnswerRecord[]> {
  return rolloutGroup(ctx.policy, task, groupSize, ctx.config.options, { ...decodeOf(ctx.config), seed: Math.floor(ctx.rng() * 2 ** 31) });
}
