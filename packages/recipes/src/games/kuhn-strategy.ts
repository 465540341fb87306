/**
 * Behaviour strategies for Kuhn Poker: the probability of 'b' (bet / call) at each of the 12
 * information sets, card x history: seat 0 at "" and "pb", seat 1 at "p" and "b". One strategy
 * object holds both seats, as a self-play policy does; analysis reads each seat's entries.
 */
import { InvalidStrategyError } from './errors.ts';
import { CARD_NAMES, kuhnPoker, type Card, type KuhnAction, type KuhnState } from './kuhn.ts';
import type { Player, Rng } from './types.ts';

export type CardName = (typeof CARD_NAMES)[number];
export type DecisionHistory = '' | 'p' | 'b' | 'pb';
export type KuhnInfoSetName = `${CardName}:${DecisionHistory}`;

export interface KuhnInfoSet {
  readonly name: KuhnInfoSetName;
  readonly player: Player;
  readonly card: Card;
  readonly history: DecisionHistory;
}

/** Probability of 'b' at each information set. */
export type KuhnStrategy = Readonly<Record<KuhnInfoSetName, number>>;

const HISTORIES: readonly [DecisionHistory, Player][] = [['', 0], ['pb', 0], ['p', 1], ['b', 1]];

/** The 12 information sets: seat 0's six ("J:", .., "K:pb"), then seat 1's six ("J:p", .., "K:b"). */
export const INFO_SETS: readonly KuhnInfoSet[] = HISTORIES.flatMap(([history, player]) =>
  ([0, 1, 2] as const).map((card) => ({ name: `${CARD_NAMES[card]}:${history}` as KuhnInfoSetName, player, card, history })),
);

export function infoSetName(card: Card, history: DecisionHistory): KuhnInfoSetName {
  return `${CARD_NAMES[card]}:${history}`;
}

/** Checks that every information set has a probability in [0, 1]; returns the strategy. */
export function validateStrategy(strategy: Readonly<Record<string, number>>): KuhnStrategy {
  for (const { name } of INFO_SETS) {
    const p = strategy[name];
    if (p === undefined) throw new InvalidStrategyError(name, 'missing');
    if (!(p >= 0 && p <= 1)) throw new InvalidStrategyError(name, `probability ${p} outside [0, 1]`);
  }
  return strategy as KuhnStrategy;
}

/** A strategy from a function of the information set. */
export function strategyFrom(prob: (info: KuhnInfoSet) => number): KuhnStrategy {
  return validateStrategy(Object.fromEntries(INFO_SETS.map((i) => [i.name, prob(i)])));
}

/** Bet with probability 1/2 everywhere. */
export function uniformStrategy(): KuhnStrategy {
  return strategyFrom(() => 0.5);
}

/**
 * The Nash equilibrium family, alpha in [0, 1/3]. Seat 0: bets J with alpha, never bets Q,
 * bets K with 3 alpha; after pass-bet folds J, calls Q with alpha + 1/3, calls K. Seat 1: after
 * a pass bets J with 1/3, checks Q, bets K; after a bet folds J, calls Q with 1/3, calls K.
 * Seat 0's value is -1/18 for every alpha.
 */
export function nashStrategy(alpha = 0): KuhnStrategy {
  if (!(alpha >= 0 && alpha <= 1 / 3)) throw new InvalidStrategyError('J:', `alpha ${alpha} outside [0, 1/3]`);
  return validateStrategy({
    'J:': alpha, 'Q:': 0, 'K:': 3 * alpha,
    'J:pb': 0, 'Q:pb': alpha + 1 / 3, 'K:pb': 1,
    'J:p': 1 / 3, 'Q:p': 0, 'K:p': 1,
    'J:b': 0, 'Q:b': 1 / 3, 'K:b': 1,
  });
}

/** The probability of 'b' for the seat to move in `s` (which must not be terminal). */
export function betProbability(strategy: KuhnStrategy, s: KuhnState): number {
  const p = strategy[kuhnPoker.infoSet(s, kuhnPoker.currentPlayer(s)) as KuhnInfoSetName];
  if (p === undefined) throw new InvalidStrategyError(kuhnPoker.infoSet(s, kuhnPoker.currentPlayer(s)), 'missing');
  return p;
}

/** An agent sampling from a behaviour strategy (e.g. a Nash opponent for held-out evaluation). */
export function strategyPlayer(strategy: KuhnStrategy, rng: Rng): (s: KuhnState) => KuhnAction {
  validateStrategy(strategy);
  return (s) => (rng() < betProbability(strategy, s) ? 'b' : 'p');
}
