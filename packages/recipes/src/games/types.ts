/**
 * The generic two-player zero-sum game interface shared by every engine of the `spiral-games`
 * recipe. States are immutable plain data; every function is pure given its arguments (chance
 * draws come only from the `rng` passed to `initial`).
 */

export type Player = 0 | 1;

/** A uniform random source on [0, 1), e.g. `seededRng(seed)`. */
export type Rng = () => number;

/** Why a move is illegal. `unparseable` only arises from text (see `applyOrForfeit`). */
export type IllegalReason = 'game-over' | 'wrong-turn' | 'out-of-range' | 'occupied' | 'unparseable';

export interface Game<S, A> {
  readonly name: string;
  readonly players: 2;
  /** The start state; games with a chance move (a deal) draw it from `rng`. */
  initial(rng?: Rng): S;
  /** The seat to move. Also defined on terminal states (the seat that would move next). */
  currentPlayer(s: S): Player;
  /** Legal actions of the seat to move, in a fixed order; empty when terminal. */
  legalActions(s: S): A[];
  /** Why `a` (played by `player`, default the seat to move) is illegal, or undefined if legal. */
  illegalReason(s: S, a: A, player?: Player): IllegalReason | undefined;
  isLegal(s: S, a: A, player?: Player): boolean;
  /** The successor state; throws IllegalMoveError for an illegal move (state unchanged). */
  apply(s: S, a: A, player?: Player): S;
  /** The terminal state in which `player` lost by an illegal move; throws GameOverError if terminal. */
  forfeit(s: S, player: Player): S;
  /** The seat that ended the game by an illegal move, if any. */
  forfeitedBy(s: S): Player | undefined;
  isTerminal(s: S): boolean;
  /** Zero-sum payoffs [seat 0, seat 1]; throws NotTerminalError before the end. */
  returns(s: S): [number, number];
  /** The text the policy in seat `player` sees: only that seat's information. */
  observation(s: S, player: Player): string;
  actionText(a: A): string;
  /** The action a text denotes (surrounding whitespace ignored), or undefined. */
  parseAction(text: string): A | undefined;
  /** A key naming `player`'s information set (equal keys = indistinguishable to that seat). */
  infoSet(s: S, player: Player): string;
  /** Every symbol the observation and action texts use (for a policy vocabulary). */
  vocabularySymbols(): readonly string[];
}

/** Chooses a move: an action, or raw text that is parsed (unparseable or illegal text forfeits). */
export type Agent<S, A> = (s: S) => A | string;

export type Outcome = 'win' | 'draw' | 'loss';
