/**
 * One batched generation of policy moves, in either mode: symbol mode (spar's own vocabulary: the
 * observation's symbols, one action token under the decoding constraint) or text mode (an imported
 * chat model, PolicyHandle.text: SPIRAL's chat prompt, a reasoned reply up to textActionTokens,
 * the move read from its last `\boxed{…}`). Self-play, evaluation and rated matches all move
 * through here, so a policy plays every game the same way it is trained.
 */
import type { Generation } from '@spar/policy/schema';
import { applyOrForfeit, type Player } from '../games/index.ts';
import type { PolicyHandle } from '../recipe.ts';
import { GAMES, promptTokens, stateMask, type ActionConstraint, type GameName } from './games.ts';
import { replyMove, textGamePrompt } from './text.ts';

export interface MoveDecode {
  readonly temperature: number;
  readonly topP?: number;
  /** Symbol mode's decoding mask (text mode masks nothing). */
  readonly constrain: ActionConstraint;
  /** Text mode's reply budget, eos included (options.textActionTokens). */
  readonly textTokens: number;
  readonly seed?: number;
}

export interface Position {
  readonly state: unknown;
  readonly player: Player;
}

export interface PolicyMove {
  readonly prompt: number[];
  readonly row: Generation;
  /** What the game engine is given; undefined when the reply holds no move this position offers. */
  readonly move?: string;
  /** The reply had the mode's form (symbol mode: an action symbol; text mode: ended, a boxed answer). */
  readonly formatOk: boolean;
}

/** The mover's prompt ids in the policy's mode. */
export function movePrompt(policy: Pick<PolicyHandle, 'vocab' | 'text'>, game: GameName, p: Position): number[] {
  return policy.text ? textGamePrompt(policy.text, game, p.state, p.player) : promptTokens(policy.vocab, game, p.state, p.player);
}

/** One generation for every position: each mover's prompt, reply and move. */
export async function policyMoves(policy: PolicyHandle, game: GameName, positions: readonly Position[], d: MoveDecode): Promise<{ version: number; moves: PolicyMove[] }> {
  const prompts = positions.map((p) => movePrompt(policy, game, p));
  const text = policy.text;
  const sampling = { temperature: d.temperature, ...(d.topP !== undefined ? { topP: d.topP } : {}), seed: d.seed };
  if (text) {
    const res = await policy.generate(prompts, { ...sampling, maxNewTokens: d.textTokens, stop: [...text.eos] });
    return { version: res.version, moves: res.rows.map((row, k) => ({ prompt: prompts[k]!, row, ...replyMove(text, game, positions[k]!.state, [...row.tokens]) })) };
  }
  const masks = positions.map((p) => stateMask(policy.vocab, game, p.state, d.constrain));
  const res = await policy.generate(prompts, { ...sampling, maxNewTokens: 1, mask: (row) => masks[row] });
  return {
    version: res.version,
    moves: res.rows.map((row, k) => {
      const move = policy.vocab.decode(row.tokens);
      return { prompt: prompts[k]!, row, move, formatOk: GAMES[game].parseAction(move) !== undefined };
    }),
  };
}

/** The state after `player` makes `move`; no move, or an illegal one, forfeits (the mover loses). */
export function applyMove(game: GameName, state: unknown, move: string | undefined, player: Player): { state: unknown; illegal: boolean } {
  const r = applyOrForfeit(GAMES[game], state, move ?? '', player);
  return { state: r.state, illegal: r.illegal !== undefined };
}
