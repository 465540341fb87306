export {
  GameError, GameOverError, IllegalMoveError, InvalidStateError, InvalidStrategyError, MissingRngError, NotTerminalError,
} from './errors.ts';
export type { Agent, Game, IllegalReason, Outcome, Player, Rng } from './types.ts';
export { pick, seededRng } from './rng.ts';
export { applyOrForfeit, playMatch, randomAgent, type MatchResult, type MoveResult } from './match.ts';
export {
  LINES, markOf, ticTacToe, ticTacToeFromBoard, winnerMark, type Cell, type Mark, type TicTacToeState,
} from './tictactoe.ts';
export {
  minimaxPlayer, minimaxValue, optimalActions, playTicTacToe, randomPlayer, reachableStates,
} from './tictactoe-minimax.ts';
export {
  CARD_NAMES, DEALS, KUHN_ACTIONS, committed, createKuhnPoker, isTerminalHistory, kuhnDeal, kuhnPoker, playerAt,
  terminalPayoff, type Card, type KuhnAction, type KuhnHistory, type KuhnOptions, type KuhnState,
} from './kuhn.ts';
export {
  INFO_SETS, betProbability, infoSetName, nashStrategy, strategyFrom, strategyPlayer, uniformStrategy,
  validateStrategy, type CardName, type DecisionHistory, type KuhnInfoSet, type KuhnInfoSetName, type KuhnStrategy,
} from './kuhn-strategy.ts';
export {
  KUHN_GAME_VALUE, bestResponse, expectedPayoff, exploitability, payoffVsNash, profileValue, withBestResponse,
  type BestResponse, type PayoffVsNash,
} from './kuhn-exploitability.ts';
export { gamesVocabularySpec, vocabularySymbols, type GameVocabularySpec } from './text-format.ts';
