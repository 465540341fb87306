import { exploitability, INFO_SETS, kuhnDeal, kuhnPoker, minimaxPlayer, payoffVsNash, randomPlayer, seededRng, strategyFrom, ticTacToe, type KuhnStrategy, type Player, type TicTacToeState } from '../games/index.ts';
import type { EvalOptions, EvalReport, PolicyHandle } from '../recipe.ts';
import { promptTokens, stateMask, type ActionConstraint } from './games.ts';

export const SPIRAL_SUITES = ['tictactoe-vs-random', 'tictactoe-vs-minimax', 'kuhn'] as const;

/**
 * TicTacToe vs a fixed opponent, the policy playing greedily (temperature 0) under the same
 * decoding constraint as in training, half the games in each seat; all games advance together
 * in batched generations.
 */
async function ticTacToeMatch(policy: PolicyHandle, opponent: 'random' | 'minimax', o: EvalOptions, constrain: ActionConstraint): Promise<Record<string, number>> {
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
    const prompts = live.map((i) => promptTokens(policy.vocab, 'tictactoe', states[i], seats[i]!));
    const masks = live.map((i) => stateMask(policy.vocab, 'tictactoe', states[i], constrain));
    const res = await policy.generate(prompts, { maxNewTokens: 1, temperature: 0, mask: (row) => masks[row] });
    live.forEach((i, k) => {
      const text = policy.vocab.decode(res.rows[k]!.tokens);
      const a = ticTacToe.parseAction(text);
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

/** The policy's behaviour strategy: P(bet) at each information set, renormalised over {p, b}. */
export async function kuhnStrategy(policy: PolicyHandle): Promise<KuhnStrategy> {
  const p = policy.vocab.id('p');
  const b = policy.vocab.id('b');
  const seqs: number[][] = [];
  for (const info of INFO_SETS) {
    const other = ([0, 1, 2] as const).find((c) => c !== info.card)!;
    let s = kuhnDeal(info.player === 0 ? [info.card, other] : [other, info.card]);
    for (const ch of info.history) s = kuhnPoker.apply(s, ch as 'p' | 'b');
    const prompt = promptTokens(policy.vocab, 'kuhn', s, info.player);
    seqs.push([...prompt, p], [...prompt, b]);
  }
  const scores = await policy.score(seqs);
  const probs = new Map<string, number>();
  INFO_SETS.forEach((info, k) => {
    const lp = scores[2 * k]!.at(-1)!;
    const lb = scores[2 * k + 1]!.at(-1)!;
    probs.set(info.name, 1 / (1 + Math.exp(lp - lb)));
  });
  return strategyFrom((info) => probs.get(info.name)!);
}

export async function evaluateSpiral(policy: PolicyHandle, suites: readonly string[], o: EvalOptions, constrain: ActionConstraint): Promise<EvalReport> {
  const report: EvalReport = {};
  for (const suite of suites) {
    if (suite === 'tictactoe-vs-random') report[suite] = await ticTacToeMatch(policy, 'random', o, constrain);
    else if (suite === 'tictactoe-vs-minimax') report[suite] = await ticTacToeMatch(policy, 'minimax', o, constrain);
    else if (suite === 'kuhn') {
      const strategy = await kuhnStrategy(policy);
      const vs = payoffVsNash(strategy);
      report[suite] = { exploitability: exploitability(strategy), payoffVsNash: vs.mean, payoffVsNashSeat0: vs.seat0, payoffVsNashSeat1: vs.seat1 };
    }
  }
  return report;
}

