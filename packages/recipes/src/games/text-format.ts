/**
 * The text alphabet of the games, for a policy vocabulary. Each engine documents its own formats
 * (tictactoe.ts, kuhn.ts); this merges their symbols, in first-declared order, without repeats.
 *   TicTacToe: "ttt" " " "x" "o" "+0".."+8" "-0".."-8" ".0"..".8" "0".."8"
 *              e.g. observation "ttt +0.1.2.3-4.5.6.7.8 x", action "4"
 *   Kuhn:      "kuhn" " " "0" "1" "J" "Q" "K" ":" "p" "b"   e.g. observation "kuhn 1 Q:p", action "b"
 * No symbol is a prefix of another, so greedy-longest-match tokenization splits every
 * observation and action text into exactly these symbols (no <unk>).
 */
import { kuhnPoker } from './kuhn.ts';
import { ticTacToe } from './tictactoe.ts';

export interface GameVocabularySpec {
  readonly symbols: readonly string[];
  readonly specials: readonly string[];
}

/** Every symbol the observation and action texts of the given games use (default: all games). */
export function vocabularySymbols(games: readonly { vocabularySymbols(): readonly string[] }[] = [ticTacToe, kuhnPoker]): string[] {
  return [...new Set(games.flatMap((g) => g.vocabularySymbols()))];
}

/** A vocabulary spec (shape of @spar/policy's VocabularySpec) covering the games' texts. */
export function gamesVocabularySpec(): GameVocabularySpec {
  return { symbols: vocabularySymbols(), specials: [] };
}
