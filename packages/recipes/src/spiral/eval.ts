import { exploitability, INFO_SETS, kuhnDeal, kuhnPoker, minimaxPlayer, payoffVsNash, randomPlayer, seededRng, strategyFrom, ticTacToe, type KuhnState, type KuhnStrategy, type Player, type TicTacToeState } from '../games/index.ts';
import type { EvalOptions, EvalReport, PolicyHandle } from '../recipe.ts';
import { promptTokens, type ActionConstraint } from './games.ts';
import { policyMoves } from './moves.ts';

/** How the policy decodes its moves here: the decoding constraint (symbol mode) and the reply budget (text mode). */
export interface PlayMode {
  readonly constrain: ActionConstraint;
  readonly textTokens: number;
}

/** Text mode's Kuhn strategy estimate: replies sampled per information set when none is given. */
export const KUHN_TEXT_SAMPLES = 16;

export const SPIRAL_SUITES = ['tictactoe-vs-random', 'tictactoe-vs-minimax', 'kuhn'] as const;

/**
 * TicTacToe vs a fixed opponent, the policy playing greedily (temperature 0) under the same
 * decoding constraint (text mode: the same prompt and budget) as in training, half the games in
 * each seat; all games advance together in batched generations.
 */
async function ticTacToeMatch(policy: PolicyHandle, opponent: 'random' | 'minimax', o: EvalOptions, mode: PlayMode): Promise<Record<string, number>> {
  const rng = seededRng(o.seed);
  const opp = opponent === 'random' ? randomPlayer(rng) : minimaxPlayer(rng);
  const n = o.episodes;
  const seats: Player[] = Array.from({ length: n }, (_, i) => (i % 2) as Player);
  const states: TicTacToeState[] = seats.map(() => ticTacToe.initial());
  const forfeits = new Array<boolean>(n).fill(false);
  for (let step = 0; step < 9; step++) {
    // Opponent moves first where it is its turn.
    states.forEach((s, i) => {
      if (!ticTacToe.isTerminal(s) && ticTacToe.currentPlayer(s) !== seats[i]) states[i] = ticTacToe.apply(s, opp(s));
    });
    const live = states.map((s, i) => (!ticTacToe.isTerminal(s) && ticTacToe.currentPlayer(s) === seats[i] ? i : -1)).filter((i) => i >= 0);
    if (live.length === 0) break;
    const res = await policyMoves(policy, 'tictactoe', live.map((i) => ({ state: states[i], player: seats[i]! })), { ...mode, temperature: 0 });
    live.forEach((i, k) => {
      const a = ticTacToe.parseAction(res.moves[k]!.move ?? '');
      if (a === undefined || !ticTacToe.isLegal(states[i]!, a)) {
        states[i] = ticTacToe.forfeit(states[i]!, seats[i]!);
        forfeits[i] = true;
      } else states[i] = ticTacToe.apply(states[i]!, a);
    });
  }
  let win = 0, draw = 0, loss = 0;
  states.forEach((s, i) => {
    if (!ticTacToe.isTerminal(s)) return;
    const r = ticTacToe.returns(s)[seats[i]!];
    if (r > 0) win++; else if (r < 0) loss++; else draw++;
  });
  return { winRate: win / n, drawRate: draw / n, lossRate: loss / n, forfeitRate: forfeits.filter(Boolean).length / n, games: n };
}

/** A state of each information set (the opponent's card is any other; the mover never sees it). */
function infoSetState(info: (typeof INFO_SETS)[number]): KuhnState {
  const other = ([0, 1, 2] as const).find((c) => c !== info.card)!;
  let s = kuhnDeal(info.player === 0 ? [info.card, other] : [other, info.card]);
  for (const ch of info.history) s = kuhnPoker.apply(s, ch as 'p' | 'b');
  return s;
}

export interface KuhnPlay {
  readonly strategy: KuhnStrategy;
  /** Text mode: the share of sampled replies that forfeited (no boxed move, or one not offered). */
  readonly forfeitRate?: number;
}

/**
 * The policy's behaviour strategy: P(bet) at each information set. Symbol mode: exact, the two
 * action tokens' probabilities renormalised over {p, b}. Text mode: a reasoned reply is not one
 * token, so `samples` replies are sampled (temperature 1) per information set and counted; a
 * forfeit counts as a pass (check or fold) — what it costs when facing a bet, and less than it
 * costs otherwise (the forfeiter loses its ante), so the figure is reported next to forfeitRate.
 */
export async function kuhnStrategy(policy: PolicyHandle, mode: PlayMode, samples = KUHN_TEXT_SAMPLES, seed = 1): Promise<KuhnPlay> {
  if (policy.text) {
    const probs = new Map<string, number>();
    let forfeits = 0;
    for (const [k, info] of INFO_SETS.entries()) {
      const position = { state: infoSetState(info), player: info.player as Player };
      const res = await policyMoves(policy, 'kuhn', Array.from({ length: samples }, () => position), { ...mode, temperature: 1, seed: seed + k });
      probs.set(info.name, res.moves.filter((m) => m.move === 'b').length / samples);
      forfeits += res.moves.filter((m) => m.move === undefined).length;
    }
    return { strategy: strategyFrom((info) => probs.get(info.name)!), forfeitRate: forfeits / (samples * INFO_SETS.length) };
  }
  const p = policy.vocab.id('p');
  const b = policy.vocab.id('b');
  const seqs: number[][] = [];
  for (const info of INFO_SETS) {
    const prompt = promptTokens(policy.vocab, 'kuhn', infoSetState(info), info.player);
    seqs.push([...prompt, p], [...prompt, b]);
  }
  const scores = await policy.score(seqs);
  const probs = new Map<string, number>();
  INFO_SETS.forEach((info, k) => {
    const lp = scores[2 * k]!.at(-1)!;
    const lb = scores[2 * k + 1]!.at(-1)!;
    probs.set(info.name, 1 / (1 + Math.exp(lp - lb)));
  });
  return { strategy: strategyFrom((info) => probs.get(info.name)!) };
}

/**
 * The held-out suites. Text mode's Kuhn suite samples `o.episodes` replies per information set
 * (kuhnStrategy) and adds forfeitRate.
 */
export async function evaluateSpiral(policy: PolicyHandle, suites: readonly string[], o: EvalOptions, mode: PlayMode): Promise<EvalReport> {
  const report: EvalReport = {};
  for (const suite of suites) {
    if (suite === 'tictactoe-vs-random') report[suite] = await ticTacToeMatch(policy, 'random', o, mode);
    else if (suite === 'tictactoe-vs-minimax') report[suite] = await ticTacToeMatch(policy, 'minimax', o, mode);
    else if (suite === 'kuhn') {
      const { strategy, forfeitRate } = await kuhnStrategy(policy, mode, o.episodes, o.seed);
      const vs = payoffVsNash(strategy);
      report[suite] = {
        exploitability: exploitability(strategy), payoffVsNash: vs.mean, payoffVsNashSeat0: vs.seat0, payoffVsNashSeat1: vs.seat1,
        ...(forfeitRate !== undefined ? { forfeitRate } : {}),
      };
    }
  }
  return report;
}

