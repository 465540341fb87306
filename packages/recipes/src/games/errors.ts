/**
 * Typed errors of the game engines. Every error has a stable `code`; none of them is retryable
 * (a game engine is deterministic: the same call fails the same way again).
 */
import { SparError } from '@spar/core';
import type { IllegalReason, Player } from './types.ts';

export class GameError extends SparError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** `apply` was given a move that is not legal in the state (see `reason`). */
export class IllegalMoveError extends GameError {
  readonly game: string;
  readonly player: Player;
  readonly action: unknown;
  readonly reason: IllegalReason;
  constructor(game: string, player: Player, action: unknown, reason: IllegalReason) {
    super('ILLEGAL_MOVE', `${game}: illegal move ${JSON.stringify(action) ?? String(action)} by player ${player} (${reason})`);
    this.game = game;
    this.player = player;
    this.action = action;
    this.reason = reason;
  }
}

/** `returns` was asked of a state that is not terminal. */
export class NotTerminalError extends GameError {
  readonly game: string;
  constructor(game: string) {
    super('NOT_TERMINAL', `${game}: returns are defined on terminal states only`);
    this.game = game;
  }
}

/** `forfeit` was asked of a state that is already terminal. */
export class GameOverError extends GameError {
  readonly game: string;
  constructor(game: string) {
    super('GAME_OVER', `${game}: the game is already over`);
    this.game = game;
  }
}

/** A game with a chance move (a deal) was started without a random source. */
export class MissingRngError extends GameError {
  readonly game: string;
  constructor(game: string) {
    super('RNG_REQUIRED', `${game}: initial() deals cards and needs an rng`);
    this.game = game;
  }
}

/** A behaviour strategy lacks an information set or has a probability outside [0, 1]. */
export class InvalidStrategyError extends GameError {
  readonly infoSet: string;
  constructor(infoSet: string, message: string) {
    super('INVALID_STRATEGY', `strategy at '${infoSet}': ${message}`);
    this.infoSet = infoSet;
  }
}

/** A state built from outside data (e.g. a board string) is not a state of the game. */
export class InvalidStateError extends GameError {
  readonly game: string;
  constructor(game: string, message: string) {
    super('INVALID_STATE', `${game}: ${message}`);
    this.game = game;
  }
}
