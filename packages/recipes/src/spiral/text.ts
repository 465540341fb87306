/**
 * spiral-games in text mode: an imported chat model (warmStart.from: hf) plays TicTacToe and Kuhn
 * Poker in its own tokens, through its chat template (TextCodec), without action masks. The prompt
 * is SPIRAL's (spiral-rl/spiral's qwen3 template): one user turn,
 *
 *   You are playing a two-player zero-sum game. Make valid actions to win.
 *   Observation: <the game state in words, the mover's view, with its legal moves>
 *   Please reason step by step, and put your final answer within \boxed{}.
 *
 * and the move is read from the LAST `\boxed{…}` of a reply that ended with one of the model's eos
 * ids (as the other text modes read their answers). TicTacToe: a cell number 0–8 (`[4]` is also
 * read). Kuhn: one of the words the observation offers — `check` or `bet` with no bet to face,
 * `call` or `fold` facing one (case and surrounding brackets ignored) — mapped to the engine's `p`
 * (check, fold) and `b` (bet, call). A reply without a boxed move, or one that did not end, is a
 * format failure (formatOk false); a boxed move that is not legal in the position is an illegal
 * move. Either way the mover forfeits and loses, exactly as in symbol mode: nothing is masked, so
 * `options.constrainActions` must be `none`.
 */
import type { ChatMessage, TextCodec } from '@spar/policy/schema';
import { CARD_NAMES, DEALS, kuhnDeal, kuhnPoker, ticTacToe, type KuhnState, type Player, type TicTacToeState } from '../games/index.ts';
import { lastBoxed, REASON_AND_BOX, replyText, type PromptFit } from '../text-reply.ts';
import type { GameName } from './games.ts';

/** The reply budget (eos included) when options.textActionTokens is unset. */
export const TEXT_ACTION_TOKENS = 256;
export const actionTokens = (o: { readonly textActionTokens?: number }): number => o.textActionTokens ?? TEXT_ACTION_TOKENS;

export const GAME_INTRO = 'You are playing a two-player zero-sum game. Make valid actions to win.';
export const MOVE_RULE = REASON_AND_BOX;

const MARK_NAMES = ['X', 'O'] as const;

function ticTacToeText(s: TicTacToeState, player: Player): string {
  const cell = (i: number): string => (s.board[i] === '.' ? String(i) : s.board[i]!.toUpperCase());
  const rows = [0, 3, 6].map((r) => ` ${cell(r)} | ${cell(r + 1)} | ${cell(r + 2)}`).join('\n---+---+---\n');
  return `Tic Tac Toe. Players take turns marking an empty cell of a 3x3 board; the first to get three marks in a row, column or diagonal wins. `
    + `X moves first. You are ${MARK_NAMES[player]}, your opponent is ${MARK_NAMES[1 - player]}.\n`
    + `Board (an empty cell shows its number):\n${rows}\n`
    + `Your move is the number of an empty cell: ${ticTacToe.legalActions(s).join(', ')}.`;
}

const facingBet = (h: string): boolean => h.endsWith('b');

function kuhnHistoryText(h: string): string {
  if (h === '') return 'nobody has acted yet';
  return [...h].map((a, i) => {
    const who = `Player ${i % 2}`;
    if (a === 'b') return i > 0 && h[i - 1] === 'b' ? `${who} called` : `${who} bet 1 chip`;
    return i > 0 && h[i - 1] === 'b' ? `${who} folded` : `${who} checked`;
  }).join(', ');
}

function kuhnText(s: KuhnState, player: Player): string {
  const moves = facingBet(s.history) ? 'call (put in 1 chip to match the bet) or fold (give up the pot)' : 'check (bet nothing) or bet (put in 1 chip)';
  return 'Kuhn Poker. The deck has three cards, J < Q < K. Each player antes 1 chip and is dealt one card; Player 0 acts first. '
    + 'With no bet to face a player checks or bets 1 chip; facing a bet a player calls or folds. '
    + 'If nobody folds, the higher card wins the pot at showdown.\n'
    + `You are Player ${player}. Your card: ${CARD_NAMES[s.cards[player]]}. So far: ${kuhnHistoryText(s.history)}.\n`
    + `Your move: ${moves}.`;
}

/** The game's state in words, as `player` sees it (the opponent's Kuhn card never shows). */
export function observationText(game: GameName, state: unknown, player: Player): string {
  return game === 'tictactoe' ? ticTacToeText(state as TicTacToeState, player) : kuhnText(state as KuhnState, player);
}

export function gameMessages(game: GameName, state: unknown, player: Player): ChatMessage[] {
  return [{ role: 'user', content: `${GAME_INTRO}\nObservation: ${observationText(game, state, player)}\n${MOVE_RULE}` }];
}

/** The mover's prompt ids: the chat template's rendering with the generation prompt. */
export function textGamePrompt(codec: TextCodec, game: GameName, state: unknown, player: Player): number[] {
  return [...codec.encodeChat(gameMessages(game, state, player))];
}


const KUHN_WORDS: Readonly<Record<string, { readonly action: 'p' | 'b'; readonly facing: boolean }>> = {
  check: { action: 'p', facing: false }, bet: { action: 'b', facing: false },
  fold: { action: 'p', facing: true }, call: { action: 'b', facing: true },
};

/**
 * A boxed move in the engine's action text: `move` is what the game engine is given (undefined
 * when the box holds no move this position offers: an illegal move), `formatOk` whether the reply
 * ended and held a boxed answer at all.
 */
export function readMove(game: GameName, state: unknown, text: string, ended: boolean): { move?: string; formatOk: boolean } {
  // Brackets around the move (`[4]`, `[call]`, TextArena's form) are read too.
  const boxed = ended ? lastBoxed(text)?.replace(/^\[\s*(.*?)\s*\]$/, '$1') : undefined;
  if (boxed === undefined) return { formatOk: false };
  if (game === 'tictactoe') return /^[0-8]$/.test(boxed) ? { move: boxed, formatOk: true } : { formatOk: true };
  const w = KUHN_WORDS[boxed.toLowerCase()];
  return w && w.facing === facingBet((state as KuhnState).history) ? { move: w.action, formatOk: true } : { formatOk: true };
}

/** A generated reply's move (readMove of its decoded text). */
export function replyMove(codec: TextCodec, game: GameName, state: unknown, response: readonly number[]): { move?: string; formatOk: boolean } {
  const { text, ended } = replyText(codec, response);
  return readMove(game, state, text, ended);
}

/** Every position whose prompt can be the longest: TicTacToe's first two plies (the list of empty cells only shrinks), every Kuhn decision. */
function longestCandidates(game: GameName): { state: unknown; player: Player }[] {
  if (game === 'kuhn') {
    return DEALS.flatMap((d) => ['', 'p', 'b', 'pb'].map((h) => {
      let s = kuhnDeal(d);
      for (const a of h) s = kuhnPoker.apply(s, a as 'p' | 'b');
      return { state: s, player: kuhnPoker.currentPlayer(s) };
    }));
  }
  const out: { state: unknown; player: Player }[] = [];
  const walk = (s: TicTacToeState, plies: number): void => {
    out.push({ state: s, player: ticTacToe.currentPlayer(s) });
    if (plies > 0) for (const a of ticTacToe.legalActions(s)) walk(ticTacToe.apply(s, a), plies - 1);
  };
  walk(ticTacToe.initial(), 2);
  return out;
}

/** Each game's longest move prompt with the move budget (submit-time check, Recipe.textPromptIssues). */
export function movePromptFits(games: readonly GameName[], codec: TextCodec, o: { readonly textActionTokens?: number }): PromptFit[] {
  return games.map((game) => ({
    what: `${game} move`,
    promptTokens: Math.max(...longestCandidates(game).map((p) => textGamePrompt(codec, game, p.state, p.player).length)),
    replyTokens: actionTokens(o),
    budgetOption: 'options.textActionTokens',
  }));
}
