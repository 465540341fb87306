/**
 * Programmatic question generator: the held-out evaluation set (never proposer-written) and test
 * fixtures. Difficulty = number of binary operators (1..4 in the evaluation suite).
 */
import { seededRng } from '../games/index.ts';
import { ArithError } from './errors.ts';
import { bin, evaluate, num, printExpr, type Expr } from './expr.ts';
import { OPERATORS } from './symbols.ts';

export type RandomSource = () => number;

const int = (rng: RandomSource, n: number): number => Math.min(n - 1, Math.floor(rng() * n));

/** A literal: one digit 70% of the time, else two digits (10..99). */
function literal(rng: RandomSource): Expr {
  return num(rng() < 0.7 ? int(rng, 10) : 10 + int(rng, 90));
}

function tree(rng: RandomSource, ops: number, allowed: readonly (typeof OPERATORS)[number][]): Expr {
  if (ops === 0) return literal(rng);
  const left = int(rng, ops);
  const op = allowed[int(rng, allowed.length)]!;
  return bin(op, tree(rng, left, allowed), tree(rng, ops - 1 - left, allowed));
}

export interface GeneratedQuestion {
  readonly expr: Expr;
  /** Canonical text (printExpr). */
  readonly question: string;
  /** The exact value, as a canonical integer string. */
  readonly answer: string;
  readonly difficulty: number;
}

/**
 * A random expression with exactly `difficulty` binary operators (a uniformly split random tree,
 * operators uniform over + - *), within the value bound. Deterministic in the rng stream: out-of-
 * bound draws are redrawn, and after 64 of them the operators fall back to + and - (always in bound).
 */
export function randomExpression(rng: RandomSource, difficulty: number): GeneratedQuestion {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 16) throw new RangeError(`difficulty must be an integer in [0, 16], got ${difficulty}`);
  for (let attempt = 0; ; attempt++) {
    const expr = tree(rng, difficulty, attempt < 64 ? OPERATORS : ['+', '-']);
    try {
      const value = evaluate(expr);
      return { expr, question: printExpr(expr), answer: String(value), difficulty };
    } catch (err) {
      if (!(err instanceof ArithError)) throw err;
    }
  }
}

/** Difficulties of the evaluation suite (operators per question). */
export const EVAL_DIFFICULTIES = [1, 2, 3, 4] as const;

/** The fixed held-out set: `count` questions, difficulties cycling 1..4, from `seed` alone. */
export function heldOutSet(seed: number, count: number): GeneratedQuestion[] {
  const rng = seededRng((Math.trunc(seed) ^ 0x41524954) >>> 0);
  return Array.from({ length: count }, (_, i) => randomExpression(rng, EVAL_DIFFICULTIES[i % EVAL_DIFFICULTIES.length]!));
}
