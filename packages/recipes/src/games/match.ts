/**
 * Playing a game between agents under the forfeit rule: a move that does not parse or is not
 * legal ends the game, lost by the seat that made it (each engine's `forfeit` fixes the payoffs).
 */
import { pick } from './rng.ts';
import type { Agent, Game, IllegalReason, Outcome, Player, Rng } from './types.ts';

export interface MoveResult<S> {
  readonly state: S;
  /** Set when the move was illegal and the state is the forfeit. */
  readonly illegal?: IllegalReason;
}

/**
 * Applies `move` for `player` (default the seat to move). Text is parsed first; text that does
 * not parse, or any illegal move, yields the terminal forfeit state instead of throwing.
 */
export function applyOrForfeit<S, A>(game: Game<S, A>, s: S, move: A | string, player?: Player): MoveResult<S> {
  const mover = player ?? game.currentPlayer(s);
  const action = typeof move === 'string' ? game.parseAction(move) : move;
  if (game.isTerminal(s)) return { state: s, illegal: 'game-over' };
  if (action === undefined) return { state: game.forfeit(s, mover), illegal: 'unparseable' };
  const reason = game.illegalReason(s, action, mover);
  if (reason !== undefined) return { state: game.forfeit(s, mover), illegal: reason };
  return { state: game.apply(s, action, mover) };
}

export interface MatchResult<S, A> {
  /** From the policy seat's point of view. */
  readonly outcome: Outcome;
  /** The policy seat's payoff. */
  readonly payoff: number;
  /** The policy lost by an unparseable or illegal move. */
  readonly forfeited: boolean;
  /** The opponent lost by an unparseable or illegal move. */
  readonly opponentForfeited: boolean;
  /** Why the forfeiting move was illegal, when one did. */
  readonly illegal?: IllegalReason;
  /** Every move made, in order (the raw text or action as the agent returned it). */
  readonly moves: readonly { readonly player: Player; readonly move: A | string }[];
  readonly final: S;
}

/** One game: the policy in `seat`, `opponent` in the other; `rng` deals (games with chance). */
export function playMatch<S, A>(
  game: Game<S, A>,
  policy: Agent<S, A>,
  opponent: Agent<S, A>,
  seat: Player,
  rng?: Rng,
): MatchResult<S, A> {
  let s = game.initial(rng);
  const moves: { player: Player; move: A | string }[] = [];
  let illegal: IllegalReason | undefined;
  while (!game.isTerminal(s)) {
    const player = game.currentPlayer(s);
    const move = player === seat ? policy(s) : opponent(s);
    moves.push({ player, move });
    const r = applyOrForfeit(game, s, move, player);
    s = r.state;
    illegal = r.illegal;
  }
  const payoff = game.returns(s)[seat];
  const by = game.forfeitedBy(s);
  return {
    outcome: payoff > 0 ? 'win' : payoff < 0 ? 'loss' : 'draw',
    payoff,
    forfeited: by === seat,
    opponentForfeited: by !== undefined && by !== seat,
    ...(illegal !== undefined ? { illegal } : {}),
    moves,
    final: s,
  };
}

/** Uniform among the legal actions. */
export function randomAgent<S, A>(game: Game<S, A>, rng: Rng): (s: S) => A {
  return (s) => pick(game.legalActions(s), rng);
}
