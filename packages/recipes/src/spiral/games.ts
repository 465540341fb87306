import { BOS_ID, SEP_ID, type Vocabulary } from '@spar/policy/schema';
import { INFO_SETS, kuhnPoker, reachableStates, seededRng, ticTacToe, type Game } from '../games/index.ts';

export type GameName = 'tictactoe' | 'kuhn';
// The engines are generic over their state/action types; the recipe handles them uniformly.
type AnyGame = Game<unknown, unknown>;

export const GAMES: Record<GameName, AnyGame> = {
  tictactoe: ticTacToe as unknown as AnyGame,
  kuhn: kuhnPoker as unknown as AnyGame,
};

/** Every action text a game can emit (its constrained-decoding alphabet). */
export const ACTION_TEXTS: Record<GameName, readonly string[]> = {
  tictactoe: ['0', '1', '2', '3', '4', '5', '6', '7', '8'],
  kuhn: ['p', 'b'],
};

/** The deterministic start state of episode `index` of a task (chance moves from a seeded rng). */
export function initialState(game: GameName, seed: number, index: number): unknown {
  return GAMES[game].initial(seededRng(((seed >>> 0) * 1000003 + index * 7919 + 17) >>> 0));
}

/** The prompt a seat sees: <bos> observation <sep>. */
export function promptTokens(vocab: Vocabulary, game: GameName, state: unknown, player: 0 | 1): number[] {
  return [BOS_ID, ...vocab.encode(GAMES[game].observation(state, player), { strict: true }), SEP_ID];
}

/** Allowed-next-token mask over the vocabulary: the game's action symbols only. */
export function actionMask(vocab: Vocabulary, game: GameName): Uint8Array {
  const m = new Uint8Array(vocab.size);
  for (const a of ACTION_TEXTS[game]) m[vocab.id(a)] = 1;
  return m;
}

export type ActionConstraint = 'none' | 'format' | 'legal';

/**
 * Decoding mask for one seat at one state: 'format' allows every action symbol of the game,
 * 'legal' only the moves legal in this state, 'none' leaves the vocabulary open (illegal or
 * unparseable moves then lose, as they always do).
 */
export function stateMask(vocab: Vocabulary, game: GameName, state: unknown, c: ActionConstraint): Uint8Array | undefined {
  if (c === 'none') return undefined;
  if (c === 'format') return actionMask(vocab, game);
  const g = GAMES[game];
  const m = new Uint8Array(vocab.size);
  for (const a of g.legalActions(state)) m[vocab.id(g.actionText(a))] = 1;
  return m;
}

/**
 * Every information set a seat can decide at, per game (fixed order: the RAE key table when
 * baselines are kept per state). TicTacToe: reachable non-terminal boards + the mover's mark;
 * Kuhn: the 12 information sets.
 */
export function infoSetKeys(game: GameName): string[] {
  if (game === 'kuhn') return INFO_SETS.map((i) => i.name);
  return reachableStates().filter((s) => !ticTacToe.isTerminal(s)).map((s) => ticTacToe.infoSet(s, ticTacToe.currentPlayer(s)));
}

export function segmentName(game: GameName, player: 0 | 1): string {
  return `${game}/player${player}`;
}
