/**
 * TicTacToe: 3x3, X (seat 0) moves first; actions are cells 0..8, row-major:
 *   0 1 2
 *   3 4 5
 *   6 7 8
 * Payoffs +1 / -1 to winner / loser, 0 for a draw. An illegal move loses: the offender gets -1,
 * the other seat +1, and the terminal state records `forfeitedBy`.
 *
 * Text formats (tokens in `vocabularySymbols()`):
 *   observation(s, p) = "ttt " + cells + " " + mark(p): cells = 9 tokens row-major, each the cell
 *     seen from the observer ('+' own mark, '-' the opponent's, '.' empty) fused with its index,
 *     mark(p) = the observer's own mark ('x' for seat 0, 'o' for seat 1). After X at 0 and O at 4:
 *     seat 0 sees "ttt +0.1.2.3-4.5.6.7.8 x", seat 1 "ttt -0.1.2.3+4.5.6.7.8 o".
 *     One token per (cell, content) lets a policy read the board without binding contents to
 *     positions itself, and the observer-relative view makes both seats the same decision problem
 *     (the supervised probe in docs/recipes.md measures what the plain "x...o...." text costs).
 *   actionText(a) = one digit "0".."8"; parseAction accepts exactly that (whitespace trimmed).
 *   infoSet(s, p) = board + mark(p) (perfect information).
 */
import { GameOverError, IllegalMoveError, InvalidStateError, NotTerminalError } from './errors.ts';
import type { Game, IllegalReason, Player } from './types.ts';

export type Mark = 'x' | 'o';
export type Cell = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface TicTacToeState {
  /** 9 chars, 'x' | 'o' | '.', row-major. */
  readonly board: string;
  /** Set when the game ended by an illegal move of this seat. */
  readonly forfeitedBy?: Player;
}

export const LINES: readonly (readonly [Cell, Cell, Cell])[] = [
  [0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6],
];

const CELLS: readonly Cell[] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const NAME = 'tictactoe';
const CELL_VIEWS = ['+', '-', '.'] as const;
const SYMBOLS: readonly string[] = ['ttt', ' ', 'x', 'o', ...CELL_VIEWS.flatMap((v) => CELLS.map((c) => `${v}${c}`)), ...CELLS.map(String)];

/** The board as the observer sees it: one token per cell, own marks '+', the opponent's '-'. */
function viewOf(board: string, player: Player): string {
  const own = markOf(player);
  let out = '';
  for (let i = 0; i < 9; i++) {
    const c = board[i]!;
    out += `${c === '.' ? '.' : c === own ? '+' : '-'}${i}`;
  }
  return out;
}

export function markOf(player: Player): Mark {
  return player === 0 ? 'x' : 'o';
}

/** The mark that completed a line, if any. */
export function winnerMark(board: string): Mark | undefined {
  for (const [a, b, c] of LINES) {
    const m = board[a];
    if ((m === 'x' || m === 'o') && board[b] === m && board[c] === m) return m;
  }
  return undefined;
}

function count(board: string, m: Mark): number {
  let n = 0;
  for (const ch of board) if (ch === m) n++;
  return n;
}

/** A state from a board string; checks shape, move counts and that play stopped at a win. */
export function ticTacToeFromBoard(board: string): TicTacToeState {
  if (!/^[xo.]{9}$/.test(board)) throw new InvalidStateError(NAME, `board must be 9 chars of x, o, . (got '${board}')`);
  const d = count(board, 'x') - count(board, 'o');
  if (d !== 0 && d !== 1) throw new InvalidStateError(NAME, `x must have as many marks as o or one more ('${board}')`);
  const w = winnerMark(board);
  if ((w === 'x' && d !== 1) || (w === 'o' && d !== 0)) throw new InvalidStateError(NAME, `play continued after a win ('${board}')`);
  return { board };
}

function currentPlayer(s: TicTacToeState): Player {
  return count(s.board, 'x') === count(s.board, 'o') ? 0 : 1;
}

function isTerminal(s: TicTacToeState): boolean {
  return s.forfeitedBy !== undefined || winnerMark(s.board) !== undefined || !s.board.includes('.');
}

function illegalReason(s: TicTacToeState, a: number, player?: Player): IllegalReason | undefined {
  if (isTerminal(s)) return 'game-over';
  if (player !== undefined && player !== currentPlayer(s)) return 'wrong-turn';
  if (!Number.isInteger(a) || a < 0 || a > 8) return 'out-of-range';
  if (s.board[a] !== '.') return 'occupied';
  return undefined;
}

export const ticTacToe: Game<TicTacToeState, number> = {
  name: NAME,
  players: 2,
  initial: () => ({ board: '.........' }),
  currentPlayer,
  legalActions: (s) => (isTerminal(s) ? [] : CELLS.filter((c) => s.board[c] === '.')),
  illegalReason,
  isLegal: (s, a, player) => illegalReason(s, a, player) === undefined,
  apply(s, a, player) {
    const mover = player ?? currentPlayer(s);
    const reason = illegalReason(s, a, player);
    if (reason !== undefined) throw new IllegalMoveError(NAME, mover, a, reason);
    return { board: s.board.slice(0, a) + markOf(mover) + s.board.slice(a + 1) };
  },
  forfeit(s, player) {
    if (isTerminal(s)) throw new GameOverError(NAME);
    return { board: s.board, forfeitedBy: player };
  },
  forfeitedBy: (s) => s.forfeitedBy,
  isTerminal,
  returns(s) {
    if (!isTerminal(s)) throw new NotTerminalError(NAME);
    if (s.forfeitedBy !== undefined) return s.forfeitedBy === 0 ? [-1, 1] : [1, -1];
    const w = winnerMark(s.board);
    return w === 'x' ? [1, -1] : w === 'o' ? [-1, 1] : [0, 0];
  },
  observation: (s, player) => `ttt ${viewOf(s.board, player)} ${markOf(player)}`,
  actionText: (a) => String(a),
  parseAction(text) {
    const t = text.trim();
    return /^[0-8]$/.test(t) ? Number(t) : undefined;
  },
  infoSet: (s, player) => s.board + markOf(player),
  vocabularySymbols: () => SYMBOLS,
};
