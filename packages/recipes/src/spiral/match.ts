import { minimaxPlayer, nashStrategy, randomPlayer, seededRng, strategyPlayer, uniformStrategy, type Player, type Rng } from '../games/index.ts';
import type { MatchOptions, MatchScore, MatchSide, PolicyHandle } from '../recipe.ts';
import type { PlayMode } from './eval.ts';
import { GAMES, initialState, type GameName } from './games.ts';
import { applyMove, policyMoves } from './moves.ts';

/** The fixed reference players of each game; the first is rated 0. */
export const ANCHORS: Readonly<Record<GameName, readonly string[]>> = { tictactoe: ['random', 'minimax'], kuhn: ['random', 'nash'] };

/**
 * How a policy plays in a rated match. TicTacToe: greedy (as it is evaluated), each pair of games
 * starting from a random two-ply opening, so two deterministic policies still play distinct
 * games. Kuhn: sampled (temperature 1), since a poker policy is its mixed strategy; the deal is
 * the chance.
 */
const PLAY: Readonly<Record<GameName, { readonly temperature: number; readonly openingPlies: number }>> = {
  tictactoe: { temperature: 0, openingPlies: 2 },
  kuhn: { temperature: 1, openingPlies: 0 },
};

const MAX_TURNS = 16;

type AnchorMove = (s: unknown) => unknown;

function anchorAgent(game: GameName, name: string, rng: Rng): AnchorMove {
  if (game === 'tictactoe' && name === 'random') return randomPlayer(rng) as AnchorMove;
  if (game === 'tictactoe' && name === 'minimax') return minimaxPlayer(rng) as AnchorMove;
  if (game === 'kuhn' && name === 'random') return strategyPlayer(uniformStrategy(), rng) as AnchorMove;
  if (game === 'kuhn' && name === 'nash') return strategyPlayer(nashStrategy(), rng) as AnchorMove;
  throw new Error(`no anchor '${name}' for ${game} (known: ${ANCHORS[game].join(', ')})`);
}

/** The start of game pair `pair`: the deal (Kuhn) and the random opening (TicTacToe), the same for both games of the pair. */
function pairStart(game: GameName, seed: number, pair: number): unknown {
  const g = GAMES[game];
  let s = initialState(game, seed, pair);
  const rng = seededRng(((seed >>> 0) ^ Math.imul(pair + 1, 0x9e3779b1)) >>> 0);
  for (let k = 0; k < PLAY[game].openingPlies && !g.isTerminal(s); k++) {
    const legal = g.legalActions(s);
    s = g.apply(s, legal[Math.floor(rng() * legal.length)]!);
  }
  return s;
}

/**
 * `o.games` games between `a` and `b` (a policy or an anchor name), in pairs that share a start
 * with the seats swapped; every policy move of a turn is one batched generation per side. An
 * illegal or unparseable move forfeits, as in training. The score is `a`'s.
 */
export async function playRatedMatch(game: GameName, a: MatchSide, b: MatchSide, o: MatchOptions, mode: PlayMode): Promise<MatchScore> {
  const g = GAMES[game];
  const n = o.games;
  const states = Array.from({ length: n }, (_, i) => pairStart(game, o.seed, i >> 1));
  const seatOfA: Player[] = states.map((_, i) => (i % 2) as Player);
  const rng = seededRng(o.seed >>> 0);
  const anchors = new Map<MatchSide, AnchorMove>();
  for (const side of [a, b]) if (typeof side === 'string' && !anchors.has(side)) anchors.set(side, anchorAgent(game, side, rng));
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const live = states.map((s, i) => (g.isTerminal(s) ? -1 : i)).filter((i) => i >= 0);
    if (live.length === 0) break;
    const bySide = new Map<number, number[]>([[0, []], [1, []]]);
    for (const i of live) bySide.get(g.currentPlayer(states[i]) === seatOfA[i] ? 0 : 1)!.push(i);
    for (const [k, rows] of bySide) {
      if (rows.length === 0) continue;
      const side = k === 0 ? a : b;
      if (typeof side === 'string') {
        const move = anchors.get(side)!;
        for (const i of rows) states[i] = g.apply(states[i], move(states[i]));
      } else await movePolicy(game, side, rows, states, mode);
    }
  }
  let wins = 0, draws = 0, losses = 0;
  states.forEach((s, i) => {
    if (!g.isTerminal(s)) return;
    const r = g.returns(s)[seatOfA[i]!];
    if (r > 0) wins++; else if (r < 0) losses++; else draws++;
  });
  return { wins, draws, losses, games: wins + draws + losses };
}

async function movePolicy(game: GameName, policy: PolicyHandle, rows: readonly number[], states: unknown[], mode: PlayMode): Promise<void> {
  const g = GAMES[game];
  const positions = rows.map((i) => ({ state: states[i], player: g.currentPlayer(states[i]) }));
  const res = await policyMoves(policy, game, positions, { ...mode, temperature: PLAY[game].temperature });
  rows.forEach((i, k) => {
    states[i] = applyMove(game, states[i], res.moves[k]!.move, positions[k]!.player).state;
  });
}
