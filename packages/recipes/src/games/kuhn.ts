/**
 * Kuhn Poker: cards J < Q < K, each seat antes 1 and is dealt one card by chance (6 deals,
 * equally likely). Actions 'p' (pass: check or fold) and 'b' (bet: bet or call). Histories:
 *   ""  seat 0 acts;  "p" / "b"  seat 1 acts;  "pb"  seat 0 acts;
 *   terminal: "pp" showdown ±1, "bp" seat 0 wins +1 (fold), "bb" showdown ±2,
 *             "pbp" seat 1 wins +1 (fold), "pbb" showdown ±2.
 *
 * Forfeit rule: an illegal move costs the offender everything it has committed to the pot so
 * far (ante 1 plus its bet, if any), paid to the other seat. A seat on turn has always committed
 * exactly 1, so an illegal move on turn is worth the same as folding (-1); only an out-of-turn
 * move by a seat that has bet (seat 0 at "b") costs 2. `createKuhnPoker({ forfeitLoss: 2 })`
 * instead charges a flat 2 (the most a hand can lose), if folding-equivalence is too mild.
 *
 * Text formats (tokens in `vocabularySymbols()`):
 *   observation(s, p) = "kuhn " + seat digit + " " + own card + ":" + history, e.g. "kuhn 1 Q:p";
 *     the opponent's card never appears (not even at showdown).
 *   actionText: "p" | "b"; parseAction accepts exactly those (whitespace trimmed).
 *   infoSet(s, p) = own card + ":" + history, e.g. "Q:p" (the seat is implied by the history).
 */
import { GameOverError, IllegalMoveError, InvalidStateError, MissingRngError, NotTerminalError } from './errors.ts';
import type { Game, IllegalReason, Player } from './types.ts';

export type Card = 0 | 1 | 2;
export type KuhnAction = 'p' | 'b';
export type KuhnHistory = '' | 'p' | 'b' | 'pb' | 'pp' | 'bp' | 'bb' | 'pbp' | 'pbb';

export interface KuhnState {
  /** cards[seat]; distinct. */
  readonly cards: readonly [Card, Card];
  readonly history: KuhnHistory;
  readonly forfeitedBy?: Player;
}

export const CARD_NAMES = ['J', 'Q', 'K'] as const;
export const KUHN_ACTIONS: readonly KuhnAction[] = ['p', 'b'];
/** The 6 deals in a fixed order; `initial(rng)` picks index floor(rng() * 6). */
export const DEALS: readonly (readonly [Card, Card])[] = [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]];

const TERMINAL = new Set<string>(['pp', 'bp', 'bb', 'pbp', 'pbb']);
const SYMBOLS: readonly string[] = ['kuhn', ' ', '0', '1', 'J', 'Q', 'K', ':', 'p', 'b'];

export function isTerminalHistory(h: string): boolean {
  return TERMINAL.has(h);
}

/** The seat to act after history `h` (defined on terminal histories too, by alternation). */
export function playerAt(h: string): Player {
  return h.length % 2 === 0 ? 0 : 1;
}

/** Chips `player` has put in the pot after history `h`: the ante plus one per bet/call. */
export function committed(h: string, player: Player): number {
  let c = 1;
  for (let i = player; i < h.length; i += 2) if (h[i] === 'b') c++;
  return c;
}

/** Seat 0's payoff at a terminal history without forfeit, given the deal. */
export function terminalPayoff(cards: readonly [Card, Card], h: string): number {
  if (h === 'bp') return 1;
  if (h === 'pbp') return -1;
  const stake = h === 'pp' ? 1 : 2;
  return cards[0] > cards[1] ? stake : -stake;
}

export interface KuhnOptions {
  /** What an illegal move costs its maker: its committed chips (default) or a flat 2. */
  readonly forfeitLoss?: 'committed' | 2;
}

export function createKuhnPoker(options: KuhnOptions = {}): Game<KuhnState, KuhnAction> {
  const name = 'kuhn';
  const forfeitLoss = options.forfeitLoss ?? 'committed';
  const isTerminal = (s: KuhnState): boolean => s.forfeitedBy !== undefined || TERMINAL.has(s.history);
  const currentPlayer = (s: KuhnState): Player => playerAt(s.history);
  const illegalReason = (s: KuhnState, a: KuhnAction, player?: Player): IllegalReason | undefined => {
    if (isTerminal(s)) return 'game-over';
    if (player !== undefined && player !== currentPlayer(s)) return 'wrong-turn';
    if (a !== 'p' && a !== 'b') return 'out-of-range';
    return undefined;
  };
  const cardOf = (s: KuhnState, p: Player): string => CARD_NAMES[s.cards[p]];
  return {
    name,
    players: 2,
    initial(rng) {
      if (rng === undefined) throw new MissingRngError(name);
      const deal = DEALS[Math.min(5, Math.floor(rng() * 6))] as readonly [Card, Card];
      return { cards: [deal[0], deal[1]], history: '' };
    },
    currentPlayer,
    legalActions: (s) => (isTerminal(s) ? [] : ['p', 'b']),
    illegalReason,
    isLegal: (s, a, player) => illegalReason(s, a, player) === undefined,
    apply(s, a, player) {
      const reason = illegalReason(s, a, player);
      if (reason !== undefined) throw new IllegalMoveError(name, player ?? currentPlayer(s), a, reason);
      return { cards: s.cards, history: (s.history + a) as KuhnHistory };
    },
    forfeit(s, player) {
      if (isTerminal(s)) throw new GameOverError(name);
      return { cards: s.cards, history: s.history, forfeitedBy: player };
    },
    forfeitedBy: (s) => s.forfeitedBy,
    isTerminal,
    returns(s) {
      if (!isTerminal(s)) throw new NotTerminalError(name);
      if (s.forfeitedBy !== undefined) {
        const loss = forfeitLoss === 'committed' ? committed(s.history, s.forfeitedBy) : forfeitLoss;
        return s.forfeitedBy === 0 ? [-loss, loss] : [loss, -loss];
      }
      const v = terminalPayoff(s.cards, s.history);
      return [v, -v];
    },
    observation: (s, player) => `kuhn ${player} ${cardOf(s, player)}:${s.history}`,
    actionText: (a) => a,
    parseAction(text) {
      const t = text.trim();
      return t === 'p' || t === 'b' ? t : undefined;
    },
    infoSet: (s, player) => `${cardOf(s, player)}:${s.history}`,
    vocabularySymbols: () => SYMBOLS,
  };
}

/** Kuhn Poker with the default forfeit rule (the offender loses its committed chips). */
export const kuhnPoker = createKuhnPoker();

/** The state after dealing `cards` (for exhaustive analysis and tests). */
export function kuhnDeal(cards: readonly [Card, Card]): KuhnState {
  const ok = (c: number): boolean => c === 0 || c === 1 || c === 2;
  if (!ok(cards[0]) || !ok(cards[1]) || cards[0] === cards[1]) {
    throw new InvalidStateError('kuhn', `a deal is two distinct cards in 0..2 (got ${JSON.stringify(cards)})`);
  }
  return { cards: [cards[0], cards[1]], history: '' };
}
