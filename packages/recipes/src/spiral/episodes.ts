import type { Sample } from '@spar/core';
import type { TextCodec, Vocabulary } from '@spar/policy/schema';
import { TaskRejected } from '../errors.ts';
import { type Player } from '../games/index.ts';
import type { Opponent, PolicyHandle } from '../recipe.ts';
import { textResponse } from '../text-reply.ts';
import { GAMES, initialState, stateMask, type ActionConstraint, type GameName } from './games.ts';
import { applyMove, movePrompt, policyMoves } from './moves.ts';
import { replyMove } from './text.ts';

/** One turn of an episode as the solver recorded it. */
export interface TurnRecord {
  readonly player: Player;
  readonly sample: Sample;
}

export interface EpisodeRecord {
  readonly index: number;
  readonly turns: readonly TurnRecord[];
  /** Played against a snapshot: its seat and version (its turns are replayed, not trained). */
  readonly opponent?: { readonly seat: Player; readonly version: number };
}

export interface PlayOptions {
  readonly temperature: number;
  readonly topP: number;
  readonly constrain: ActionConstraint;
  /** Text mode's reply budget (options.textActionTokens). */
  readonly textTokens: number;
  readonly seed?: number;
}

const MAX_TURNS = 16;

/**
 * Play `count` episodes of one task at once: both seats are the policy, or — with an opponent —
 * the snapshot takes seat 1 in even episodes and seat 0 in odd ones. Each step batches the
 * pending moves of every unfinished episode, one generation per side.
 */
export async function playSelf(policy: PolicyHandle, game: GameName, taskSeed: number, count: number, o: PlayOptions, opponent?: Opponent): Promise<EpisodeRecord[]> {
  const g = GAMES[game];
  const states = Array.from({ length: count }, (_, i) => initialState(game, taskSeed, i));
  const turns: TurnRecord[][] = states.map(() => []);
  for (let step = 0; step < MAX_TURNS; step++) {
    const live = states.map((s, i) => (g.isTerminal(s) ? -1 : i)).filter((i) => i >= 0);
    if (live.length === 0) break;
    const byOpponent = opponent ? live.filter((i) => g.currentPlayer(states[i]) === opponentSeat(i)) : [];
    const byPolicy = opponent ? live.filter((i) => !byOpponent.includes(i)) : live;
    for (const [side, rows] of [[policy, byPolicy], [opponent?.policy, byOpponent]] as const) {
      if (!side || rows.length === 0) continue;
      const positions = rows.map((i) => ({ state: states[i], player: g.currentPlayer(states[i]) }));
      const res = await policyMoves(side, game, positions, { ...o, seed: o.seed === undefined ? undefined : o.seed + step });
      rows.forEach((i, k) => {
        const { prompt, row, move } = res.moves[k]!;
        const player = positions[k]!.player;
        states[i] = applyMove(game, states[i], move, player).state;
        turns[i]!.push({
          player,
          sample: { tokens: [...prompt, ...row.tokens], promptLength: prompt.length, logprobs: [...row.logprobs], allowed: row.allowed.map((a) => a ?? null), policyVersion: res.version, role: `player${player}` },
        });
      });
    }
  }
  return turns.map((t, index) => ({ index, turns: t, ...(opponent ? { opponent: { seat: opponentSeat(index), version: opponent.version } } : {}) }));
}

/** The snapshot's seat in episode `index` (alternating, so the learner plays both). */
function opponentSeat(index: number): Player {
  return (index % 2 === 0 ? 1 : 0) as Player;
}

export interface ReplayedTurn {
  readonly player: Player;
  /** The mover's information set before the move. */
  readonly infoSet: string;
  readonly sample: Sample;
  readonly formatOk: boolean;
  readonly legal: boolean;
}

/** Text mode on the judge side: the imported model's codec and the reply budget. */
export interface ReplayText {
  readonly codec: TextCodec;
  readonly tokens: number;
}

/**
 * Judge side: replay a recorded episode through the engine. The prompt of every turn must be
 * the observation the engine produces for that seat (text mode: its chat prompt), and the game
 * must end; the move is re-read from the recorded ids, and the outcome comes from the engine,
 * never from the solver.
 */
export function replay(vocab: Vocabulary, game: GameName, taskSeed: number, ep: EpisodeRecord, constrain: ActionConstraint, text?: ReplayText): { turns: ReplayedTurn[]; returns: [number, number] } {
  const g = GAMES[game];
  if (!Number.isInteger(ep.index) || ep.index < 0 || ep.index > 10000) throw new TaskRejected(`bad episode index ${ep.index}`);
  if (!Array.isArray(ep.turns) || ep.turns.length > MAX_TURNS) throw new TaskRejected('bad turn list');
  let state = initialState(game, taskSeed, ep.index);
  const out: ReplayedTurn[] = [];
  for (const [k, t] of ep.turns.entries()) {
    if (g.isTerminal(state)) throw new TaskRejected(`turn ${k} after the game ended`);
    const player = g.currentPlayer(state);
    if (t.player !== player) throw new TaskRejected(`turn ${k}: recorded seat ${t.player}, engine says ${player}`);
    const prompt = movePrompt({ vocab, text: text?.codec }, game, { state, player });
    const s = t.sample;
    if (!s || !Array.isArray(s.tokens) || s.promptLength !== prompt.length || prompt.some((id, j) => s.tokens[j] !== id)) {
      throw new TaskRejected(`turn ${k}: prompt does not match the engine's observation`);
    }
    let move: string | undefined;
    let formatOk: boolean;
    let allowed: (number[] | null)[] | undefined;
    if (text) {
      // Nothing was masked: the reply is read as the solver read it.
      ({ move, formatOk } = replyMove(text.codec, game, state, textResponse(text.codec, s, `turn ${k}`, text.tokens)));
    } else {
      if (s.logprobs.length !== s.tokens.length - s.promptLength) throw new TaskRejected(`turn ${k}: logprobs do not match the response`);
      move = vocab.decode(s.tokens.slice(s.promptLength));
      formatOk = g.parseAction(move) !== undefined;
      // The allowed set comes from the engine under the experiment's constraint, not from the record.
      const mask = stateMask(vocab, game, state, constrain);
      allowed = mask ? [[...mask.keys()].filter((id) => mask[id])] : [null];
      if (allowed[0] && !allowed[0].includes(s.tokens[s.promptLength]!)) throw new TaskRejected(`turn ${k}: the move was outside the allowed set`);
    }
    const infoSet = g.infoSet(state, player);
    const moved = applyMove(game, state, move, player);
    state = moved.state;
    out.push({ player, infoSet, sample: { tokens: [...s.tokens], promptLength: s.promptLength, logprobs: [...s.logprobs], allowed, policyVersion: s.policyVersion, role: `player${player}` }, formatOk, legal: !moved.illegal });
  }
  if (!g.isTerminal(state)) throw new TaskRejected('episode did not reach a terminal state');
  return { turns: out, returns: g.returns(state) };
}
