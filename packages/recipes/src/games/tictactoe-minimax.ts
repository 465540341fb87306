/**
 * Perfect play for TicTacToe: minimax values memoised over every reachable board (5478 of them,
 * terminal ones included), and the held-out opponents built on it.
 */
import { playMatch, randomAgent, type MatchResult } from './match.ts';
import { pick } from './rng.ts';
import { ticTacToe as T, type TicTacToeState } from './tictactoe.ts';
import type { Agent, Player, Rng } from './types.ts';

/** Board -> minimax value for seat 0 (X): +1 X wins, 0 draw, -1 O wins, under perfect play. */
const memo = new Map<string, number>();

function solve(s: TicTacToeState): number {
  if (T.isTerminal(s)) return T.returns(s)[0];
  const hit = memo.get(s.board);
  if (hit !== undefined) return hit;
  const sign = T.currentPlayer(s) === 0 ? 1 : -1;
  let best = -Infinity;
  for (const a of T.legalActions(s)) best = Math.max(best, sign * solve(T.apply(s, a)));
  const v = sign * best + 0; // + 0 turns -0 into 0
  memo.set(s.board, v);
  return v;
}

/** The minimax value for seat 0 (X); a forfeited state is worth its forfeit payoff. */
export function minimaxValue(s: TicTacToeState): number {
  return solve(s);
}

/** Every legal action that keeps the minimax value of the seat to move (empty when terminal). */
export function optimalActions(s: TicTacToeState): number[] {
  if (T.isTerminal(s)) return [];
  const v = solve(s);
  return T.legalActions(s).filter((a) => solve(T.apply(s, a)) === v);
}

/** Every board reachable from the empty board by legal play (no forfeits), in BFS order. */
export function reachableStates(): TicTacToeState[] {
  const start = T.initial();
  const seen = new Set<string>([start.board]);
  const out: TicTacToeState[] = [start];
  for (let i = 0; i < out.length; i++) {
    const s = out[i] as TicTacToeState;
    for (const a of T.legalActions(s)) {
      const n = T.apply(s, a);
      if (!seen.has(n.board)) {
        seen.add(n.board);
        out.push(n);
      }
    }
  }
  return out;
}

/** Uniform among the legal moves. */
export function randomPlayer(rng: Rng): (s: TicTacToeState) => number {
  return randomAgent(T, rng);
}

/** Perfect play: uniform among the optimal moves. */
export function minimaxPlayer(rng: Rng): (s: TicTacToeState) => number {
  return (s) => pick(optimalActions(s), rng);
}

/** `playMatch` for TicTacToe. */
export function playTicTacToe(
  policy: Agent<TicTacToeState, number>,
  opponent: Agent<TicTacToeState, number>,
  seat: Player,
): MatchResult<TicTacToeState, number> {
  return playMatch(T, policy, opponent, seat);
}
