/**
 * Elo-scale ratings (400·log10 odds) fitted by maximum likelihood under the Bradley–Terry model
 * with draws counted as half a win. A player is rated once, against opponents whose ratings are
 * already fixed, and keeps that rating: a rating shown once never moves.
 */

/** A player's results against one opponent of known rating. */
export interface Results {
  readonly opponentRating: number;
  readonly games: number;
  /** wins + draws / 2 */
  readonly score: number;
}

/** Expected score of a player rated `r` against one rated `opp`. */
export function expectedScore(r: number, opp: number): number {
  return 1 / (1 + 10 ** ((opp - r) / 400));
}

const SPAN = 4000;

/**
 * The rating that makes the expected score over `results` equal the score played, with one
 * virtual draw against each opponent (a prior that keeps a player who won or lost every game at
 * a finite rating). Bisection: the expected score is monotone in the rating.
 */
export function performanceRating(results: readonly Results[]): number {
  const played = results.filter((r) => r.games > 0);
  if (played.length === 0) throw new Error('no games to rate');
  const target = played.reduce((s, r) => s + r.score + 0.5, 0);
  let lo = -SPAN;
  let hi = SPAN;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    const e = played.reduce((s, r) => s + (r.games + 1) * expectedScore(mid, r.opponentRating), 0);
    if (e < target) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

/** wins + draws/2 over games (0.5 for no games). */
export function scoreOf(m: { readonly wins: number; readonly draws: number; readonly games: number }): number {
  return m.games ? (m.wins + m.draws / 2) / m.games : 0.5;
}
